package ghapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"
)

// maxDeliveryPages bounds one listing of the app's webhook deliveries
// (100 per page): 50,000 deliveries.
const maxDeliveryPages = 500

// HookDeliveries lists the app's webhook deliveries made at or after since,
// newest first, following GitHub's cursor pagination until it reaches an
// older one.
func (a *App) HookDeliveries(ctx context.Context, since time.Time) ([]*github.HookDelivery, error) {
	var out []*github.HookDelivery
	opt := &github.ListCursorOptions{PerPage: 100}
	for page := 0; page < maxDeliveryPages; page++ {
		ds, resp, err := a.app.Apps.ListHookDeliveries(ctx, opt)
		if err != nil {
			return out, fmt.Errorf("listing the app's webhook deliveries: %s", Reason(err))
		}
		for _, d := range ds {
			if d.GetDeliveredAt().Time.Before(since) {
				return out, nil
			}
			out = append(out, d)
		}
		if resp.Cursor == "" || len(ds) == 0 {
			return out, nil
		}
		opt.Cursor = resp.Cursor
	}
	return out, nil
}

// Redeliver asks GitHub to deliver a webhook delivery again.
func (a *App) Redeliver(ctx context.Context, deliveryID int64) error {
	_, _, err := a.app.Apps.RedeliverHookDelivery(ctx, deliveryID)
	if err != nil {
		var ae *github.AcceptedError
		if errors.As(err, &ae) {
			return nil // 202 Accepted is GitHub's answer
		}
		return fmt.Errorf("redelivering webhook delivery %d: %s", deliveryID, Reason(err))
	}
	return nil
}

// Installations lists the ids of the app's installations.
func (a *App) Installations(ctx context.Context) ([]int64, error) {
	var out []int64
	opt := &github.ListOptions{PerPage: 100}
	for {
		ins, resp, err := a.app.Apps.ListInstallations(ctx, opt)
		if err != nil {
			return out, fmt.Errorf("listing the app's installations: %s", Reason(err))
		}
		for _, in := range ins {
			if in.GetSuspendedAt().IsZero() {
				out = append(out, in.GetID())
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}
