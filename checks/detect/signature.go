package detect

import "strings"

// Signature kinds of a Commit.
const (
	SignatureGPG  = "gpg"
	SignatureSSH  = "ssh"
	SignatureX509 = "x509"
)

// signatureArmours are the armour headers git itself knows (its
// gpg-interface), by kind.
var signatureArmours = []struct{ prefix, kind string }{
	{"-----BEGIN PGP SIGNATURE-----", SignatureGPG},
	{"-----BEGIN PGP MESSAGE-----", SignatureGPG},
	{"-----BEGIN SSH SIGNATURE-----", SignatureSSH},
	{"-----BEGIN SIGNED MESSAGE-----", SignatureX509},
}

// SignatureKind names the kind of an armoured commit signature (a commit's
// gpgsig header, or GitHub's verification.signature): "gpg", "ssh" or
// "x509" when it starts with an armour git knows, else "". An unknown or
// malformed armour gets no kind rather than a guess: it is reported as an
// unsigned commit would be, never credited as a signature of some kind.
// The server, 'countersign check', 'audit' and 'detect' all use this.
func SignatureKind(sig string) string {
	s := strings.TrimSpace(sig)
	for _, a := range signatureArmours {
		if strings.HasPrefix(s, a.prefix) {
			return a.kind
		}
	}
	return ""
}
