// lineLogger turns a child's output into one log record per line.

package main

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

type lineLogger struct {
	log    *slog.Logger
	source string
	// quiet, once set (the child is being stopped), logs lines at info: sessions ended by a
	// shutdown are expected, not news.
	quiet atomic.Bool

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
			level := slog.LevelWarn
			if l.quiet.Load() {
				level = slog.LevelInfo
			}
			l.log.Log(context.Background(), level, l.source, slog.String("line", string(line)))
		}
		l.buf = l.buf[i+1:]
	}
	// A line without an end is kept only up to a bound.
	if len(l.buf) > 64*1024 {
		l.buf = l.buf[:0]
	}
	return len(p), nil
}
