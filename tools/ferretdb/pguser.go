// The operating-system user postgres runs as. postgres refuses to run as root, and CI (and some
// servers) run the bot as root: then postgres runs as a system user of its own, which owns the
// cluster and can reach it. Run as anyone else, postgres simply runs as that user.

package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// pgUserName is created when missing; nobody is the fallback where useradd is not available.
const pgUserName = "arb-postgres"

type osUser struct {
	name     string
	uid, gid uint32
	switchTo bool // false: postgres runs as the launcher's own user
}

func postgresUser(log *slog.Logger) (*osUser, error) {
	if os.Geteuid() != 0 {
		return &osUser{name: "self", uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}, nil
	}
	u, err := user.Lookup(pgUserName)
	if err != nil {
		out, addErr := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", pgUserName).CombinedOutput()
		// Another launcher may have created it at the same moment: look again either way.
		u, err = user.Lookup(pgUserName)
		if err != nil {
			log.Warn("could not create the postgres user; using nobody",
				slog.String("user", pgUserName), slog.String("useradd", tail(string(out)+fmt.Sprint(addErr), 200)))
			if u, err = user.Lookup("nobody"); err != nil {
				return nil, fmt.Errorf("no unprivileged user for postgres (%s or nobody): %w", pgUserName, err)
			}
		} else {
			log.Info("created the system user postgres runs as", slog.String("user", pgUserName))
		}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid), switchTo: true}, nil
}

// credential is nil when postgres runs as the launcher's user.
func (u *osUser) credential() *syscall.Credential {
	if !u.switchTo {
		return nil
	}
	return &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{}}
}

// own gives dir (and, when it belonged to someone else, everything under it) to the user.
func (u *osUser) own(dir string) error {
	if !u.switchTo {
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid == u.uid && sys.Gid == u.gid {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(u.uid), int(u.gid))
	})
}

// reach lets the user traverse every directory from / down to dir. Where one cannot be searched
// (a temp dir made 0700, /root), the search bit for others is added: it lets a process that
// knows a path inside go through, not list the directory.
func (u *osUser) reach(dir string, log *slog.Logger) error {
	if !u.switchTo {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := abs; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if !u.canSearch(st) {
			if err := os.Chmod(d, st.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("letting %s reach %s: %w", u.name, d, err)
			}
			log.Warn("added the search permission for others so postgres can reach its files",
				slog.String("dir", d), slog.String("user", u.name))
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (u *osUser) canSearch(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := st.Mode().Perm()
	switch {
	case sys.Uid == u.uid:
		return mode&0o100 != 0
	case sys.Gid == u.gid:
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}
