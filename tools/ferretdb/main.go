// Command ferretdb runs FerretDB 1.24 as a MongoDB-compatible server for the bot when no real
// mongod is used: with its PostgreSQL backend (a postgres it starts and supervises from
// -postgres-bin, data under -data; or an existing server given by -postgresql-url) or with its
// SQLite backend (data under -data).
//
// It prints exactly one line to stdout once it accepts connections:
//
//	READY mongodb://127.0.0.1:PORT/
//
// and exits cleanly on SIGTERM or SIGINT, or when its stdin closes (-exit-on-stdin-eof), so a
// parent that dies never leaves it running; a postgres it started is stopped first.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	backend := flag.String("backend", "sqlite", "FerretDB backend: sqlite or postgresql")
	dataDir := flag.String("data", "", "directory for the SQLite databases, or for the PostgreSQL cluster the launcher runs")
	pgBin := flag.String("postgres-bin", "", "directory of the postgres and initdb binaries (postgresql backend, no -postgresql-url)")
	pgURL := flag.String("postgresql-url", "", "an existing PostgreSQL server to use instead of starting one")
	// Off by default: FerretDB logs each failed SQL statement with its arguments at error, and the
	// bot's guards fail statements by design (a duplicate key), so its log would quote customer data.
	logLevel := flag.String("log-level", "off", "FerretDB's log level: off, debug, info, warn, error")
	exitOnEOF := flag.Bool("exit-on-stdin-eof", false, "stop when stdin is closed (parent died)")
	flag.Parse()

	level := slog.Level(100) // above every level FerretDB uses
	if *logLevel != "off" {
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			fail(2, "-log-level: %v", err)
		}
	}
	// Logs go to stderr so stdout carries only the READY line. The launcher's own records (about
	// postgres) say src=launcher: the bot passes those on to its log.
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	own := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With(slog.String("src", "launcher"))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *exitOnEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	config := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Logger: logger}
	// Postgres outlives FerretDB by a little: it is stopped once FerretDB has closed its connections.
	pgCtx, stopPG := context.WithCancel(context.Background())
	pgDone := make(chan struct{})
	close(pgDone)

	switch *backend {
	case "sqlite":
		abs := mustDataDir(*dataDir)
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + abs + string(filepath.Separator)
	case "postgresql":
		config.Handler = "postgresql"
		config.PostgreSQLURL = *pgURL
		if *pgURL == "" {
			if *pgBin == "" {
				fail(2, "-postgres-bin or -postgresql-url is required with -backend postgresql")
			}
			pg, err := newPostgres(*pgBin, mustDataDir(*dataDir), own)
			if err != nil {
				fail(1, "postgres: %v", err)
			}
			defer pg.cleanup()
			cmd, exited, err := startPostgres(ctx, pg)
			if err != nil {
				pg.cleanup()
				fail(1, "postgres: %v", err)
			}
			pgDone = make(chan struct{})
			go func() {
				defer close(pgDone)
				pg.supervise(pgCtx, cmd, exited)
			}()
			config.PostgreSQLURL = pg.FerretURL()
		}
	default:
		fail(2, "-backend must be sqlite or postgresql")
	}

	f, err := ferretdb.New(config)
	if err != nil {
		stopPG()
		<-pgDone
		fail(1, "%v", err)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()

	// MongoDBURI waits for the listener to be bound, so the port is known here.
	fmt.Printf("READY %s\n", f.MongoDBURI())

	select {
	case <-done:
	case <-ctx.Done():
		// A FerretDB request stuck on the backend can hold Run up indefinitely; postgres is
		// stopped all the same, since nothing may outlive the launcher.
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			own.Warn("FerretDB did not stop within 15 s; stopping postgres anyway")
		}
	}
	stopPG()
	<-pgDone
}

// startPostgres prepares the cluster, starts postgres and sets up FerretDB's database in it.
func startPostgres(ctx context.Context, pg *postgres) (*exec.Cmd, <-chan error, error) {
	if err := pg.prepare(ctx); err != nil {
		return nil, nil, err
	}
	c, ex, err := pg.start(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := pg.setup(ctx); err != nil {
		pg.shutdown(c, ex)
		return nil, nil, err
	}
	return c, ex, nil
}

func mustDataDir(dir string) string {
	if dir == "" {
		fail(2, "-data is required")
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o700)
	}
	if err != nil {
		fail(1, "data directory: %v", err)
	}
	return abs
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb: "+format+"\n", args...)
	os.Exit(code)
}
