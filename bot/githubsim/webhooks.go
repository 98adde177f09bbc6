package githubsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

type delivery struct {
	id, instID, repoID  int64
	guid, event, action string
	body                []byte
	status              int
	err                 string
	dropped, redeliver  bool
	at                  time.Time
	duration            time.Duration
	sent                bool
	reqHeaders          map[string]string
	respHeaders         map[string]string
	respBody            string
}

func (s *state) hookID() int64 { return hookIDBase + s.opt.AppID }

// emitRepoLocked emits an event about a repository to the installation covering it (if any).
func (s *state) emitRepoLocked(event, action string, r *repo, sender *user, payload obj) {
	in := s.installationFor(r)
	if in == nil {
		return
	}
	if _, ok := payload["repository"]; !ok {
		payload["repository"] = s.repoObj(r)
	}
	addCustomProperties(payload)
	if r.owner.typ == "Organization" {
		payload["organization"] = s.orgObj(r.owner)
	}
	if sender == nil {
		sender = r.owner
	}
	payload["sender"] = s.userObj(sender)
	s.emitLocked(event, action, in, r, payload)
}

func (s *state) orgObj(o *user) obj {
	u := s.api("orgs/%s", o.login)
	return nulls(obj{
		"login": o.login, "id": o.id, "node_id": nodeID("Organization", o.id), "url": u,
		"repos_url": u + "/repos", "events_url": u + "/events", "hooks_url": u + "/hooks",
		"issues_url": u + "/issues", "members_url": u + "/members{/member}",
		"public_members_url": u + "/public_members{/member}",
		"avatar_url":         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", o.id),
	}, "description")
}

// emitLocked queues a delivery; with no webhook URL configured nothing is sent or recorded, as on GitHub.
func (s *state) emitLocked(event, action string, in *installation, r *repo, payload obj) {
	if s.hookURL == "" || s.closed {
		return
	}
	payload["installation"] = s.installationRef(in)
	if strings.HasPrefix(event, "installation") {
		// Webhooks carry the account as a plain user, without the enterprise fields REST adds.
		full := s.installationObj(in)
		full["account"] = s.userObj(in.account)
		payload["installation"] = full
	}
	body, err := json.Marshal(payload)
	mustf(err == nil, "encoding %s payload: %v", event, err)
	d := &delivery{id: s.nextID(idDelivery), instID: in.id, guid: s.guid(), event: event, action: action, body: body}
	if r != nil {
		d.repoID = r.id
	}
	s.enqueueLocked(d)
}

func (s *state) enqueueLocked(d *delivery) {
	s.deliveries = append(s.deliveries, d)
	s.queue = append(s.queue, d)
	if s.pending == 0 {
		s.idle = make(chan struct{})
	}
	s.pending++
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendLoop delivers queued webhooks one at a time, in order; with
// Options.DeliveryWorkers > 1 several run at once, each taking the oldest
// queued delivery.
func (s *state) sendLoop() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-s.stop:
				s.abandon()
				return
			}
		}
		d := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if len(s.queue) > 0 {
			// More work: wake another sender (a no-op with one).
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
		url, secret := s.hookURL, s.hookSecret
		drop := s.dropN > 0 || (s.dropP > 0 && s.rng.Float64() < s.dropP)
		if s.dropN > 0 {
			s.dropN--
		}
		hookID, appID := s.hookID(), s.opt.AppID
		s.mu.Unlock()

		start := time.Now()
		headers := map[string]string{
			"Accept":                                 "*/*",
			"Content-Type":                           "application/json",
			"User-Agent":                             "GitHub-Hookshot/7c1b2f3",
			"X-GitHub-Event":                         d.event,
			"X-GitHub-Delivery":                      d.guid,
			"X-GitHub-Hook-ID":                       fmt.Sprint(hookID),
			"X-GitHub-Hook-Installation-Target-ID":   fmt.Sprint(appID),
			"X-GitHub-Hook-Installation-Target-Type": "integration",
		}
		if secret != "" {
			headers["X-Hub-Signature"] = "sha1=" + sign(sha1.New, secret, d.body)
			headers["X-Hub-Signature-256"] = "sha256=" + sign(sha256.New, secret, d.body)
		}
		var status int
		var errText, respBody string
		respHeaders := map[string]string{}
		if drop {
			errText = "failed to connect to host (dropped by githubsim)"
		} else {
			status, errText, respBody = s.post(url, headers, d.body, respHeaders)
		}

		s.mu.Lock()
		d.sent, d.status, d.err, d.dropped = true, status, errText, drop
		d.at, d.duration = s.ts(), time.Since(start)
		d.reqHeaders, d.respHeaders, d.respBody = headers, respHeaders, respBody
		if s.pending > 0 { // abandon may have zeroed it while this one was in flight
			s.pending--
			if s.pending == 0 {
				close(s.idle)
			}
		}
		s.mu.Unlock()
	}
}

func (s *state) abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = nil
	if s.pending > 0 {
		s.pending = 0
		close(s.idle)
	}
}

func (s *state) post(url string, headers map[string]string, body []byte, respHeaders map[string]string) (int, string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error(), ""
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.hookClient.Do(req)
	if err != nil {
		return 0, err.Error(), ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	for k := range resp.Header {
		respHeaders[strings.ToLower(k)] = resp.Header.Get(k)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Sprintf("Invalid HTTP Response: %d", resp.StatusCode), string(b)
	}
	return resp.StatusCode, "", string(b)
}

func sign(h func() hashHash, secret string, body []byte) string {
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Deliveries returns every webhook delivery queued so far, in order (Status 0 and
// no Err while it is still queued).
func (s *Sim) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, 0, len(s.deliveries))
	for _, d := range s.deliveries {
		out = append(out, Delivery{
			GUID: d.guid, Event: d.event, Action: d.action, Body: append([]byte(nil), d.body...),
			Status: d.status, Err: d.err, Dropped: d.dropped, Redelivery: d.redeliver, At: d.at, ID: d.id,
		})
	}
	return out
}

// WaitDeliveries waits until every queued webhook has been POSTed (not processed).
func (s *Sim) WaitDeliveries(ctx context.Context) error {
	s.mu.Lock()
	ch := s.idle
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errClosed
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DropDeliveries makes each delivery fail to be sent with the given
// probability (seeded RNG); dropped deliveries are recorded as failed, for
// the hook-deliveries API and redelivery.
func (s *Sim) DropDeliveries(probability float64) {
	s.mu.Lock()
	s.dropP = probability
	s.mu.Unlock()
}

// DropNextDeliveries makes the next n deliveries fail to be sent, recorded
// as failed like those DropDeliveries drops; 0 cancels what is left.
func (s *Sim) DropNextDeliveries(n int) {
	s.mu.Lock()
	s.dropN = n
	s.mu.Unlock()
}

// Redeliver re-sends a delivery as POST /app/hook/deliveries/{id}/attempts does and returns the new delivery's id.
func (s *Sim) Redeliver(deliveryID int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deliveryLocked(deliveryID)
	mustf(d != nil, "unknown delivery %d", deliveryID)
	return s.redeliverLocked(d).id
}

func (s *state) deliveryLocked(id int64) *delivery {
	for _, d := range s.deliveries {
		if d.id == id {
			return d
		}
	}
	return nil
}

func (s *state) redeliverLocked(d *delivery) *delivery {
	nd := &delivery{id: s.nextID(idDelivery), instID: d.instID, repoID: d.repoID, guid: d.guid,
		event: d.event, action: d.action, body: d.body, redeliver: true}
	s.enqueueLocked(nd)
	return nd
}

func (s *state) hookDeliveryObj(d *delivery, full bool) obj {
	status := "OK"
	switch {
	case !d.sent:
		status = "Pending"
	case d.dropped:
		status = "failed to connect to host"
	case d.err != "":
		status = d.err
	}
	var repoID any
	if d.repoID != 0 {
		repoID = d.repoID
	}
	at := d.at
	if at.IsZero() {
		at = s.ts()
	}
	var action any
	if d.action != "" {
		action = d.action
	}
	m := obj{
		"id": d.id, "guid": d.guid, "delivered_at": at.Format(time.RFC3339), "redelivery": d.redeliver,
		"duration": d.duration.Seconds(), "status": status, "status_code": d.status, "event": d.event,
		"action": action, "installation_id": d.instID, "repository_id": repoID,
		"throttled_at": nil,
	}
	if full {
		m["url"] = s.api("app/hook/deliveries/%d", d.id)
		m["request"] = obj{"headers": d.reqHeaders, "payload": json.RawMessage(d.body)}
		var payload any
		if d.respBody != "" {
			payload = d.respBody
		}
		m["response"] = obj{"headers": d.respHeaders, "payload": payload}
	}
	return m
}

// addCustomProperties adds the custom_properties webhook repositories carry (REST ones do not).
func addCustomProperties(payload obj) {
	if m, ok := payload["repository"].(obj); ok {
		m["custom_properties"] = obj{}
	}
	if pr, ok := payload["pull_request"].(obj); ok {
		for _, side := range []string{"head", "base"} {
			if b, ok := pr[side].(obj); ok {
				if m, ok := b["repo"].(obj); ok {
					m["custom_properties"] = obj{}
				}
			}
		}
	}
}
