// The PostgreSQL server behind FerretDB's postgresql backend: initialised on first start,
// reachable only through a Unix socket in a private directory, run as an unprivileged user
// when the launcher is root, and restarted with back-off whenever it dies.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// pgPort only names the socket file (.s.PGSQL.<port>); there is no TCP listener.
	pgPort = 5432
	// pgDatabase holds every FerretDB database as a schema.
	pgDatabase  = "ferretdb"
	pgSuperuser = "postgres"
	// maxSocketPath is sun_path's size less the terminating NUL.
	maxSocketPath = 107
)

// pgSettings keep postgres small and private. fsync and synchronous commits stay on: it holds the
// customers' data. Parallel workers are off because the machine is small and shared.
var pgSettings = []string{
	"listen_addresses=",
	"unix_socket_permissions=0700",
	"shared_buffers=64MB",
	"max_connections=120",
	"max_wal_size=256MB",
	"min_wal_size=32MB",
	"wal_level=minimal",
	"max_wal_senders=0",
	"max_parallel_workers_per_gather=0",
	"jit=off",
	// FerretDB sends the field name as a parameter (_jsonb -> $1 @> $2) of a prepared statement.
	// A generic plan cannot match that to an index expression, and PostgreSQL keeps using one it
	// chose while a table was small: a lookup at 50,000 documents took 26 ms instead of 2.
	"plan_cache_mode=force_custom_plan",
	"fsync=on",
	// Statement errors (a duplicate key is how the bot's guards say "done already") would log
	// customer data; only what stops the server is logged.
	"log_min_messages=fatal",
	"log_min_error_statement=panic",
	"log_line_prefix=",
	"lc_messages=C",
	"timezone=UTC",
}

type postgres struct {
	binDir   string
	root     string // owned by the postgres user; holds pgdata/ and run/
	dataDir  string // the cluster
	sockDir  string // private socket directory
	tempSock bool   // sockDir was made under the temp dir because root's path is too long
	runAs    *osUser
	log      *slog.Logger
	output   *lineLogger // of the postgres running now
}

func newPostgres(binDir, root string, log *slog.Logger) (*postgres, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(binDir)
	if err != nil {
		return nil, err
	}
	return &postgres{binDir: bin, root: abs, dataDir: filepath.Join(abs, "pgdata"), sockDir: filepath.Join(abs, "run"), log: log}, nil
}

// URL reaches database through the socket directory, with trust authentication: only this user
// and root can reach the socket.
func (p *postgres) URL(database string) string {
	q := url.Values{}
	q.Set("host", p.sockDir)
	q.Set("port", strconv.Itoa(pgPort))
	return (&url.URL{Scheme: "postgres", User: url.User(pgSuperuser), Path: "/" + database, RawQuery: q.Encode()}).String()
}

// FerretURL is what FerretDB connects with. Its pool must be large: FerretDB 1.24 holds the
// connection of an update's query while it takes a second one to write, so N updates at once need
// 2N connections, and a pool of 20 deadlocked under 50 tickets opened at once (every request
// waiting for a connection forever). The bot's driver sends at most 40 commands at a time
// (src/db/connection.ts). Idle connections close after a minute (FerretDB turns any value of
// pool_max_conn_idle_time into 1m).
func (p *postgres) FerretURL() string {
	return p.URL(pgDatabase) + "&pool_max_conns=100&pool_max_conn_idle_time=1m"
}

// prepare finds the user postgres runs as, gives it its directories and initialises the cluster
// on first start. initdb writes to a temporary directory renamed into place, so an interrupted
// first start leaves no half-made cluster behind.
func (p *postgres) prepare(ctx context.Context) error {
	user, err := postgresUser(p.log)
	if err != nil {
		return err
	}
	p.runAs = user
	if err := os.MkdirAll(p.root, 0o700); err != nil {
		return err
	}
	if err := user.own(p.root); err != nil {
		return err
	}
	if err := user.reach(p.root, p.log); err != nil {
		return err
	}
	if err := user.reach(p.binDir, p.log); err != nil {
		return err
	}
	if len(filepath.Join(p.sockDir, ".s.PGSQL.5432.lock")) > maxSocketPath {
		dir, err := os.MkdirTemp("", "arb-pg-")
		if err != nil {
			return err
		}
		p.sockDir, p.tempSock = dir, true
		if err := user.reach(dir, p.log); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(p.sockDir, 0o700); err != nil {
		return err
	}
	if err := user.own(p.sockDir); err != nil {
		return err
	}

	if _, err := os.Stat(filepath.Join(p.dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	p.log.Info("initialising the PostgreSQL cluster (first start)", slog.String("dir", p.dataDir))
	tmp := p.dataDir + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(p.binDir, "initdb"),
		"-D", tmp, "-U", pgSuperuser, "--auth=trust", "--encoding=UTF8", "--locale=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: user.credential()}
	cmd.Dir = p.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, tail(string(out), 600))
	}
	return os.Rename(tmp, p.dataDir)
}

// start runs postgres once and returns when it accepts connections, or with its error.
func (p *postgres) start(ctx context.Context) (*exec.Cmd, <-chan error, error) {
	if err := p.waitForPrevious(ctx); err != nil {
		return nil, nil, err
	}
	args := []string{"-D", p.dataDir, "-p", strconv.Itoa(pgPort), "-c", "unix_socket_directories=" + p.sockDir}
	for _, s := range pgSettings {
		args = append(args, "-c", s)
	}
	cmd := exec.Command(filepath.Join(p.binDir, "postgres"), args...)
	cmd.Dir = p.root
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: p.runAs.credential(),
		// If the launcher dies without stopping it (kill -9), the kernel asks postgres for a
		// fast shutdown, so a killed bot never leaves a postgres behind.
		Pdeathsig: syscall.SIGINT,
		// Its own process group: a Ctrl-C in the terminal reaches the launcher, which stops
		// postgres in order, rather than both at once.
		Setpgid: true,
	}
	cmd.Stdout = &lineLogger{log: p.log, source: "postgres"}
	cmd.Stderr = cmd.Stdout
	p.output = cmd.Stdout.(*lineLogger)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, nil, fmt.Errorf("postgres exited before it was ready: %v", err)
		case <-ctx.Done():
			p.shutdown(cmd, exited)
			return nil, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if p.ping(ctx, "postgres") == nil {
			break
		}
		if time.Now().After(deadline) {
			p.shutdown(cmd, exited)
			return nil, nil, errors.New("postgres did not accept connections within 60 s")
		}
	}
	return cmd, exited, nil
}

// waitForPrevious gives a postgres that is still shutting down on this cluster (its launcher was
// killed a moment ago) time to finish, rather than failing on its lock file.
func (p *postgres) waitForPrevious(ctx context.Context) error {
	for i := 0; i < 150; i++ {
		pid := postmasterPID(p.dataDir)
		if pid <= 0 || syscall.Kill(pid, 0) != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil // let postgres itself say what holds the cluster
}

func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

func (p *postgres) ping(ctx context.Context, database string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.URL(database))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// setup creates FerretDB's database and installs the GIN twins (see gin.go).
func (p *postgres) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return err
	}
	var exists bool
	err = admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, pgDatabase).Scan(&exists)
	if err == nil && !exists {
		_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{pgDatabase}.Sanitize())
	}
	admin.Close(context.Background())
	if err != nil {
		return fmt.Errorf("creating database %s: %w", pgDatabase, err)
	}
	conn, err := pgx.Connect(ctx, p.URL(pgDatabase))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return installGinTwins(ctx, conn)
}

// supervise keeps postgres running until ctx ends, then stops it. A postgres that dies is
// started again after a back-off that grows while it keeps failing; FerretDB's pool reconnects.
func (p *postgres) supervise(ctx context.Context, cmd *exec.Cmd, exited <-chan error) {
	failures := 0
	for {
		started := time.Now()
		select {
		case <-ctx.Done():
			p.shutdown(cmd, exited)
			return
		case err := <-exited:
			if time.Since(started) > time.Minute {
				failures = 0
			}
			p.log.Warn("postgres exited; restarting", slog.String("err", fmt.Sprint(err)), slog.Int("failures", failures))
		}
		for {
			failures++
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff(failures)):
			}
			var err error
			cmd, exited, err = p.start(ctx)
			if err == nil {
				p.log.Warn("postgres restarted", slog.Int("pid", cmd.Process.Pid))
				break
			}
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("postgres restart failed", slog.String("err", err.Error()), slog.Int("failures", failures))
		}
	}
}

// shutdown asks for a fast shutdown (SIGINT: open sessions are ended, the data is checkpointed)
// and escalates when it takes too long.
func (p *postgres) shutdown(cmd *exec.Cmd, exited <-chan error) {
	if p.output != nil {
		p.output.quiet.Store(true)
	}
	steps := []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, 30 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}}
	for _, s := range steps {
		_ = cmd.Process.Signal(s.sig)
		select {
		case <-exited:
			return
		case <-time.After(s.wait):
			p.log.Warn("postgres is slow to stop", slog.String("signal", s.sig.String()))
		}
	}
}

// cleanup removes what is not data: a socket directory made under the temp dir.
func (p *postgres) cleanup() {
	if p.tempSock {
		_ = os.RemoveAll(p.sockDir)
	}
}

// backoff is 0.5 s doubling up to 30 s.
func backoff(failures int) time.Duration {
	d := 500 * time.Millisecond << min(failures-1, 6)
	return min(d, 30*time.Second)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
