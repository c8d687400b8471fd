package testenv

import (
	"time"
	"unsafe"
)

// Suspended is what time.Now would return in a process that took the
// reading t and then slept (a laptop's lid closed) for d: the wall clock d
// later, Go's monotonic reading where t left it, since the monotonic clock
// stops during a suspend. t must carry a monotonic reading (time.Now's do).
// Go has no API that makes such a time; it is built from time.Time's layout
// (wall, ext, loc), where ext holds the monotonic reading when the wall's
// top bit says there is one.
func Suspended(t time.Time, d time.Duration) time.Time {
	type layout struct {
		wall uint64
		ext  int64
		loc  *time.Location
	}
	if t.Round(0) == t {
		panic("testenv.Suspended: the time has no monotonic reading")
	}
	woke := t.Add(d) // wall and monotonic both d later
	(*layout)(unsafe.Pointer(&woke)).ext = (*layout)(unsafe.Pointer(&t)).ext
	return woke
}
