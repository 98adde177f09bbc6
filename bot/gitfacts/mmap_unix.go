//go:build unix

package gitfacts

import "syscall"

// mapFile maps a whole file read-only into memory; unmap releases it.
func mapFile(fd uintptr, size int64) (data []byte, unmap func() error, err error) {
	if size == 0 || int64(int(size)) != size {
		return nil, nil, errNoMap
	}
	b, err := syscall.Mmap(int(fd), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
