package checks

import "strings"

// noreplyDomain is the host of GitHub's private commit addresses,
// "login@users.noreply.github.com" or "12345+login@users.noreply.github.com".
const noreplyDomain = "users.noreply.github.com"

// LoginFromEmail returns the GitHub login a noreply commit address names, or
// "" for any other address.
func LoginFromEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || !strings.EqualFold(email[at+1:], noreplyDomain) {
		return ""
	}
	local := email[:at]
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[plus+1:]
	}
	return local
}

// IsBot reports whether an account is a bot: its type (GitHub's user
// "type") says so, or its login carries GitHub's "[bot]" suffix. It is the
// one bot test of the engine, the server and the local commands.
func IsBot(login, userType string) bool {
	return strings.EqualFold(userType, "Bot") || hasBotSuffix(login)
}

func hasBotSuffix(login string) bool {
	const suffix = "[bot]"
	return len(login) >= len(suffix) && strings.EqualFold(login[len(login)-len(suffix):], suffix)
}

// normName lower-cases a login or "org/slug" team and strips a leading "@".
func normName(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@"))
}

// loginSet is a set of lower-case logins; small, so a slice.
type loginSet []string

func (s *loginSet) add(login string) {
	login = normName(login)
	if login == "" {
		return
	}
	for _, l := range *s {
		if l == login {
			return
		}
	}
	*s = append(*s, login)
}

func (s loginSet) has(login string) bool {
	for _, l := range s {
		if strings.EqualFold(l, login) {
			return true
		}
	}
	return false
}

// shortSHA abbreviates a commit id for people.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// firstLine returns the first line of a message.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
