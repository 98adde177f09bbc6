package gitfacts

import (
	"bytes"
	"testing"
)

// The walk decodes raw objects itself; these targets hold its decoders to
// never panic on whatever a repository holds.

func FuzzParseTree(f *testing.F) {
	h := bytes.Repeat([]byte{0xab}, hashSize)
	f.Add(append(append([]byte("100644 README.md\x00"), h...), append([]byte("40000 src\x00"), h...)...))
	f.Add([]byte("100644 a\x00short"))
	f.Add([]byte("99999999 x\x00"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := parseTree(b)
		if err != nil {
			return
		}
		for _, e := range es {
			if len(e.name) == 0 || bytes.IndexByte(e.name, 0) >= 0 {
				t.Fatalf("bad entry name %q", e.name)
			}
		}
	})
}

func FuzzParseCommit(f *testing.F) {
	f.Add([]byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" +
		"author A <a@example.com> 1700000000 +0100\ncommitter C <c@example.com> 1700000000 -0500\n" +
		"gpgsig -----BEGIN SSH SIGNATURE-----\n U1NI\n -----END SSH SIGNATURE-----\n\nSubject\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"))
	f.Add([]byte("tree zz\n\n"))
	f.Add([]byte("author\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCommit(b)
		if err == nil && c.signature != "" && c.signature != "gpg" && c.signature != "ssh" && c.signature != "x509" {
			t.Fatalf("signature kind %q", c.signature)
		}
	})
}

func FuzzPatchDelta(f *testing.F) {
	base := []byte("hello, world\n")
	// src size 13, dst size 18: copy 0..13, insert "again".
	f.Add(base, []byte{13, 18, 0x90, 13, 5, 'a', 'g', 'a', 'i', 'n'})
	f.Add(base, []byte{13, 0})
	f.Add([]byte{}, []byte{0, 0})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		out, err := patchDelta(base, delta)
		if err == nil && out == nil && len(delta) > 2 {
			t.Fatal("nil result without an error")
		}
	})
}

func TestPatchDelta(t *testing.T) {
	out, err := patchDelta([]byte("hello, world\n"), []byte{13, 18, 0x90, 13, 5, 'a', 'g', 'a', 'i', 'n'})
	if err != nil || string(out) != "hello, world\nagain" {
		t.Fatalf("patchDelta = %q, %v", out, err)
	}
	for _, bad := range [][]byte{{14, 18, 0x90, 13}, {13, 18, 0x90, 13}, {13, 2, 0x90, 13}, {13, 1, 0}, {13, 5, 0x91, 20, 5}} {
		if _, err := patchDelta([]byte("hello, world\n"), bad); err == nil {
			t.Errorf("patchDelta accepted %v", bad)
		}
	}
}
