package server

import (
	"github.com/countersign/countersign/bot/webhook"
	"github.com/google/go-github/v62/github"
)

func webhookAction(ev any) string { return webhook.Action(ev) }

// installationOf returns the installation id of a parsed event, for logs.
func installationOf(ev any) int64 {
	if e, ok := ev.(interface{ GetInstallation() *github.Installation }); ok {
		return e.GetInstallation().GetID()
	}
	return 0
}

// repoNameOf returns the "owner/name" of a parsed event's repository, for logs.
func repoNameOf(ev any) string {
	switch e := ev.(type) {
	case interface{ GetRepo() *github.Repository }:
		return e.GetRepo().GetFullName()
	case *github.PushEvent:
		return e.GetRepo().GetFullName()
	}
	return ""
}
