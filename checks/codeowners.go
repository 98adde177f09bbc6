package checks

// CodeOwnersPaths are where GitHub looks for a CODEOWNERS file, in the order
// it looks; the first found is the one that applies. The server, the local
// commands and the push handler that re-evaluates on a CODEOWNERS change all
// read this list.
var CodeOwnersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}
