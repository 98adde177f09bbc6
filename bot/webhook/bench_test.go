package webhook

import "testing"

func BenchmarkVerify(b *testing.B) {
	body := readTestdata(b, "pull_request.synchronize.json")
	sig := Sign(testSecret, body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := Verify(testSecret, body, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePullRequest(b *testing.B) {
	body := readTestdata(b, "pull_request.synchronize.json")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse("pull_request", body); err != nil {
			b.Fatal(err)
		}
	}
}
