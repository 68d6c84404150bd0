//go:build unix

package container

import (
	"errors"
	"syscall"
)

// processAlive: signal 0 checks existence without touching the process.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
