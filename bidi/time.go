package bidi

import "time"

var (
	timeZero  time.Time
	timeNow   = time.Now
	closeWait = time.Second
)
