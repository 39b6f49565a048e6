package configfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cachectl/cachectl/pkg/config"
)

// ErrExists is returned by Write when the file exists and may not be
// replaced.
var ErrExists = errors.New("the file exists")

// ErrChanged is returned by Write when the file is no longer what it was
// read as.
var ErrChanged = errors.New("the file changed since it was read")

// Write puts content at path only once it loads as a valid configuration
// (no CACHECTL_ overrides applied): a *config.ValidationError otherwise,
// and the path untouched. With was nil the path must not exist (ErrExists)
// unless replace is set; otherwise the file must still hold was
// (ErrChanged), and keeps its permissions. The file is replaced in one
// step: a reader sees the old file or the new one.
func Write(path string, content, was []byte, replace bool) error {
	mode := fs.FileMode(0o644)
	if was != nil {
		cur, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, was) {
			return ErrChanged
		}
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, content, mode); err != nil {
		return err
	}
	if _, err := config.Load(config.LoadOptions{File: tmp.Name()}); err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			ve.File = path // the problems are the content's, wherever it was checked
		}
		return err
	}
	if was == nil && !replace {
		// Link fails when the path exists: no file appearing in between
		// is ever replaced.
		if err := os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return ErrExists
			}
			return err
		}
		return nil
	}
	return os.Rename(tmp.Name(), path)
}

func writeSynced(f *os.File, content []byte, mode fs.FileMode) error {
	_, err := f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return nil
}
