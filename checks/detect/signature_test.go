package detect

import "testing"

func TestSignatureKind(t *testing.T) {
	for sig, want := range map[string]string{
		"": "",
		"-----BEGIN PGP SIGNATURE-----\n\niQ\n-----END PGP SIGNATURE-----\n":   "gpg",
		"-----BEGIN PGP MESSAGE-----\n\niQ\n-----END PGP MESSAGE-----\n":       "gpg",
		"\n-----BEGIN SSH SIGNATURE-----\nU1NI\n-----END SSH SIGNATURE-----\n": "ssh",
		"-----BEGIN SIGNED MESSAGE-----\nMIA\n-----END SIGNED MESSAGE-----\n":  "x509",
		// Armours git does not know get no kind, never a guess.
		"-----BEGIN PKCS7-----\nMIA\n-----END PKCS7-----\n":                      "",
		"-----BEGIN FUTURE SIGNATURE-----\nAA\n-----END FUTURE SIGNATURE-----\n": "",
		"garbage -----BEGIN SSH SIGNATURE-----":                                  "",
		"garbage":                                                                "",
	} {
		if got := SignatureKind(sig); got != want {
			t.Errorf("SignatureKind(%.30q) = %q, want %q", sig, got, want)
		}
	}
}
