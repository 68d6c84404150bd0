package harness

import (
	"io"
	"log"
	"strings"
)

// oneLine collapses a multi-line message (a browser's stderr) to one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
