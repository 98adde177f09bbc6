package server

import (
	"context"
	"fmt"
	"time"
)

// workQueue is where accepted work waits and runs: in this process's memory
// (one replica, newQueue) or in Redis, shared by every replica (asynq,
// newRedisQueue). Work for one key never runs twice at once, and a burst of
// work for one key is coalesced into one run of the latest state.
type workQueue interface {
	// submit queues tasks, all or none. With bounded set it may refuse with
	// ErrQueueFull; a Redis queue refuses with an error when Redis fails.
	submit(ctx context.Context, tasks []task, bounded bool) error
	// depth returns how much work waits (countersign_queue_depth).
	depth() int
	// drain stops taking work once what runs has finished or ctx is done,
	// and returns the keys whose work was abandoned (lost, not requeued).
	drain(ctx context.Context) []string
	// acceptsWhileDraining reports whether deliveries may still be accepted
	// while this replica drains: true when another replica runs the work.
	acceptsWhileDraining() bool
}

// Operations of a taskSpec.
const (
	opEvaluate          = "evaluate"
	opRepo              = "repo"
	opInstallation      = "installation"
	opSweepInstallation = "sweep-installation"
	opSweepRepo         = "sweep-repo"
	opCommand           = "command"
	opAction            = "action"
	opMergeGroup        = "merge-group"
	opLanding           = "landing"
	opDeploy            = "deploy"
)

// taskSpec is a task as data, so that a replica other than the one that
// accepted it can run it: the payload of a task in Redis.
type taskSpec struct {
	// Op says what the task does, one of the op* constants.
	Op string `json:"op"`
	// Job is the pull request, repository or installation it concerns.
	Job Job `json:"job"`
	// OwnerFilter limits an installation fan-out to one account's repositories.
	OwnerFilter string `json:"owner_filter,omitempty"`
	// Standing limits a fan-out to the pull requests whose verdict may
	// depend on a change of someone's standing; nil means every one.
	Standing *Standing `json:"standing,omitempty"`
	// Floor is a sweep's rate-limit floor.
	Floor float64 `json:"floor,omitempty"`
	// Command, Action and MergeGroup carry an interaction's details.
	Command    *CommandJob    `json:"command,omitempty"`
	Action     *ActionJob     `json:"action,omitempty"`
	MergeGroup *MergeGroupJob `json:"merge_group,omitempty"`
	// Push and Deploy carry a landing record's and a deployment gate's details.
	Push   *PushJob   `json:"push,omitempty"`
	Deploy *DeployJob `json:"deploy,omitempty"`
	// Parked is when this work was first given up, for work the sweep
	// queues again (parkedWork); zero for work as first accepted.
	Parked time.Time `json:"parked,omitzero"`
}

// fromSpec rebuilds the task a spec describes. Its snapshot was admitted
// (or dropped) where the delivery was accepted, so it is not admitted again.
func (s *Server) fromSpec(sp taskSpec) (task, error) {
	switch sp.Op {
	case opEvaluate:
		return s.evalTaskAdmitted(sp.Job), nil
	case opRepo:
		return s.repoTaskFor(sp.Job.Reason, sp.Job.DeliveryID, sp.Job.Installation, sp.Job.Owner, sp.Job.Repo, sp.Standing), nil
	case opInstallation:
		return s.installationTaskFor(sp.Job.Reason, sp.Job.DeliveryID, sp.Job.Installation, sp.OwnerFilter, sp.Standing), nil
	case opSweepInstallation, opSweepRepo:
		sw, ok := s.backend.(Sweeper)
		if !ok {
			return task{}, fmt.Errorf("server: the backend (%T) cannot sweep", s.backend)
		}
		if sp.Op == opSweepRepo {
			return s.sweepRepoTask(sw, sp.Job.Installation, sp.Job.Owner, sp.Job.Repo, sp.Floor), nil
		}
		return s.sweepInstallationTask(sw, sp.Job.Installation, sp.Floor), nil
	case opLanding, opDeploy:
		if s.opt.Landing == nil {
			return task{}, fmt.Errorf("server: this replica records no landings")
		}
		if sp.Op == opLanding && sp.Push != nil {
			return s.landingTask(*sp.Push), nil
		}
		if sp.Op == opDeploy && sp.Deploy != nil {
			return s.deployTask(*sp.Deploy), nil
		}
	case opCommand, opAction, opMergeGroup:
		ib, ok := s.backend.(Interactions)
		if !ok {
			return task{}, fmt.Errorf("server: the backend (%T) does not interact", s.backend)
		}
		switch {
		case sp.Op == opCommand && sp.Command != nil:
			return s.commandTask(ib, *sp.Command), nil
		case sp.Op == opAction && sp.Action != nil:
			return s.actionTask(ib, *sp.Action), nil
		case sp.Op == opMergeGroup && sp.MergeGroup != nil:
			return s.mergeGroupTask(ib, *sp.MergeGroup), nil
		}
	}
	return task{}, fmt.Errorf("server: a queued task of unknown shape (op %q)", sp.Op)
}
