//go:build !unix

package gitfacts

// mapFile is not available here; packs are read with ReadAt.
func mapFile(fd uintptr, size int64) ([]byte, func() error, error) { return nil, nil, errNoMap }
