// lineLogger turns a child's output into one log record per line.

package main

import (
	"bytes"
	"log/slog"
	"sync"
)

type lineLogger struct {
	log    *slog.Logger
	source string

	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := bytes.TrimSpace(l.buf[:i]); len(line) > 0 {
			l.log.Warn(l.source, slog.String("line", string(line)))
		}
		l.buf = l.buf[i+1:]
	}
	// A line without an end is kept only up to a bound.
	if len(l.buf) > 64*1024 {
		l.buf = l.buf[:0]
	}
	return len(p), nil
}
