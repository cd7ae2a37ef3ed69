"""One task of the kit's local cluster: ``python -m ckpt_conformance.distributed.node PLAN``.

The plan (JSON) names the role (``ps``, ``chief`` or ``worker``), the cluster, the hook
target, the scenarios, the pipes to the peer task and where to write the result.

* ``ps`` starts a ``tf.compat.v1.train.Server`` and serves until it is killed.
* ``chief`` (worker task 0) runs each scenario: a between-graph replicated model
  (``replica_device_setter``), ``MonitoredTrainingSession(is_chief=True,
  chief_only_hooks=[lockstep, hook])``, recording listener calls and checkpoint
  writes exactly as the single-process scenarios do.
* ``worker`` (worker task 1) builds the same model and the hook too (as user code
  would), passes it as a chief-only hook, and runs one training step each time the
  chief says so, recording whatever the hook or its listeners do on this task.

The chief's lockstep hook, first in its hooks, advances the step by the chief's own
increment and then has the worker run one step: between two of the chief's runs the
global step moves by exactly 2, deterministically.  Every task dies with the kit
(``PR_SET_PDEATHSIG``) and gives up on a silent peer after the plan's deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import sys
import time
from dataclasses import dataclass
from typing import Any

from ckpt_conformance.lifeline import die_with_parent
from ckpt_conformance.trace import Event


class Peer:
    """One-byte tokens to and from the other training task, with a deadline."""

    def __init__(self, read_fd: int, write_fd: int, deadline: float) -> None:
        self.read_fd, self.write_fd, self.deadline = read_fd, write_fd, deadline

    def send(self, token: bytes) -> None:
        os.write(self.write_fd, token)

    def expect(self, *tokens: bytes) -> bytes:
        remaining = self.deadline - time.monotonic()
        ready, _, _ = select.select([self.read_fd], [], [], max(0.0, remaining))
        if not ready:
            raise TimeoutError(
                f"no answer from the other task within the deadline "
                f"(waiting for {b'/'.join(tokens).decode()})"
            )
        token = os.read(self.read_fd, 1)
        if token not in tokens:
            raise RuntimeError(f"protocol error: got {token!r}, expected {tokens}")
        return token


def _event_json(event: Any) -> dict[str, Any]:
    info = {
        k: v
        for k, v in event.info.items()
        if k in ("type", "session_step", "latest", "stored_step", "stored_w", "message")
    }
    info = {
        k: (v if isinstance(v, (int, float, str, type(None))) else repr(v)) for k, v in info.items()
    }
    if "returned" in event.info:
        info["returned"] = repr(event.info["returned"])
    return {"kind": event.kind, "who": event.who, "step": event.step, "info": info}


def _write(path: str, result: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(result, out)
    os.replace(tmp, path)


def _model(tf: Any, cluster: Any, task: int) -> tuple[Any, Any]:
    """The replicated model: global step and ``w`` on the ps, both advanced together."""
    v1 = tf.compat.v1
    with v1.device(
        v1.train.replica_device_setter(cluster=cluster, worker_device=f"/job:worker/task:{task}")
    ):
        global_step = v1.train.get_or_create_global_step()
        weight = v1.get_variable("w", initializer=tf.constant(0, tf.int64), use_resource=True)
        advance = tf.group(v1.assign_add(global_step, 1), weight.assign_add(1))
    return global_step, advance


def _session(tf: Any, server: Any, task: int, checkpoint_dir: str, hooks: list[Any]) -> Any:
    v1 = tf.compat.v1
    config = v1.ConfigProto(device_filters=["/job:ps", f"/job:worker/task:{task}"])
    return v1.train.MonitoredTrainingSession(
        master=server.target,
        is_chief=task == 0,
        checkpoint_dir=checkpoint_dir,
        chief_only_hooks=hooks,
        save_checkpoint_secs=None,
        save_checkpoint_steps=None,
        save_summaries_steps=None,
        save_summaries_secs=None,
        log_step_count_steps=None,
        config=config,
    )


def run_training_task(plan: dict[str, Any]) -> None:
    import tensorflow as tf

    from ckpt_conformance import scenarios as sc
    from ckpt_conformance.targets import load_target

    v1 = tf.compat.v1
    task = 0 if plan["role"] == "chief" else 1
    cluster = v1.train.ClusterSpec(plan["cluster"])
    server = v1.train.Server(cluster, job_name="worker", task_index=task)
    factory = load_target(plan["hook"], "hook").factory
    peer = Peer(plan["read_fd"], plan["write_fd"], time.monotonic() + plan["deadline"])
    result: dict[str, Any] = {"role": plan["role"], "scenarios": {}}

    with sc.instrumented():  # restored when the task's scenarios are done
        for spec in plan["scenarios"]:
            if task == 1:
                peer.expect(b"S")  # the chief's session exists: variables are initialized
            recorder = sc.Recorder()
            sc._local.recorder, sc._local.clock = recorder, sc.Clock()
            events: list[Any] = recorder.events
            result["scenarios"][spec["name"]] = {"events": [], "should_stop": None}
            try:
                with tf.Graph().as_default():
                    global_step, advance = _model(tf, cluster, task)
                    env = _DistributedEnv(spec["checkpoint_dir"], global_step)
                    names = ("a", "b") if task == 0 else ("worker_a", "worker_b")
                    plans = [
                        sc.ListenerPlan(
                            n,
                            returns={int(k): v for k, v in spec.get("returns", {}).items()}
                            if n == "a"
                            else {},
                        )
                        for n in names
                    ]
                    listeners = [sc.make_recording_listener(p, recorder, env) for p in plans]
                    hook = factory(
                        spec["checkpoint_dir"], save_steps=spec["save_steps"], listeners=listeners
                    )
                    session = _Session(tf, server, spec, hook, advance, global_step, peer, recorder)
                    if task == 0:
                        _chief_session(session)
                    else:
                        _worker_session(session, result["scenarios"][spec["name"]])
            except BaseException as exc:  # noqa: BLE001 - reported to the kit, not raised
                events.append(
                    Event("error", info={"type": type(exc).__name__, "message": str(exc)[:500]})
                )
                if task == 0:
                    _release_worker(peer)
            finally:
                sc._local.recorder = sc._local.clock = None
                result["scenarios"][spec["name"]]["events"] = [_event_json(e) for e in events]
                _write(plan["result"], result)


def _release_worker(peer: Peer) -> None:
    """After a failed chief session, let the worker close its own and move on."""
    with contextlib.suppress(OSError):
        peer.send(b"E")


@dataclass
class _Session:
    """What one task's training session needs: its graph pieces, peer and recorder."""

    tf: Any
    server: Any
    spec: dict[str, Any]
    hook: Any
    advance: Any
    global_step: Any
    peer: Peer
    recorder: Any


def _chief_session(s: _Session) -> None:
    class Lockstep(s.tf.compat.v1.train.SessionRunHook):
        """Advance by the chief's increment, then have the worker run one step."""

        def after_create_session(self, session: Any, coord: Any) -> None:
            self._advance = session.make_callable(s.advance)
            self._read = session.make_callable(s.global_step)

        def after_run(self, run_context: Any, run_values: Any) -> None:
            self._advance()
            s.peer.send(b"G")
            s.peer.expect(b"D")
            s.recorder.add(Event("run", step=int(self._read())))

    hooks = [Lockstep(), s.hook]
    with _session(s.tf, s.server, 0, s.spec["checkpoint_dir"], hooks) as sess:
        s.recorder.add(Event("created"))
        s.peer.send(b"S")
        s.peer.expect(b"R")
        for _ in range(s.spec["runs"]):
            sess.run(s.global_step)  # the training run; the step moves in the hooks
            if sess.should_stop():
                s.recorder.add(Event("stopped"))
                break
        s.recorder.add(Event("close"))
    s.peer.send(b"G")  # one more worker step after the chief has stopped (DIST-4)
    s.peer.expect(b"D")
    s.peer.send(b"E")


def _worker_session(s: _Session, out: dict[str, Any]) -> None:
    with _session(s.tf, s.server, 1, s.spec["checkpoint_dir"], [s.hook]) as sess:
        s.peer.send(b"R")
        while s.peer.expect(b"G", b"E") == b"G":
            sess.run(s.advance)
            s.recorder.add(Event("run", step=int(sess.run(s.global_step))))
            s.peer.send(b"D")
        out["should_stop"] = bool(sess.should_stop())


class _DistributedEnv:
    """What a chief listener observes: the scenario observations plus ``w`` on disk."""

    def __init__(self, checkpoint_dir: str, global_step: Any) -> None:
        from ckpt_conformance.scenarios import _Env

        self._env = _Env(checkpoint_dir, global_step)

    def observe(self, session: Any, value: Any, checkpoint: bool = False) -> dict[str, Any]:
        import tensorflow as tf

        info = self._env.observe(session, value, checkpoint)
        if checkpoint:
            latest = tf.train.latest_checkpoint(self._env.checkpoint_dir)
            try:
                info["stored_w"] = int(tf.train.load_variable(latest, "w"))
            except Exception as exc:  # noqa: BLE001 - an unreadable checkpoint is data
                info["stored_w"] = f"unreadable: {type(exc).__name__}"
        return info


def run_ps(plan: dict[str, Any]) -> None:
    import tensorflow as tf

    v1 = tf.compat.v1
    server = v1.train.Server(v1.train.ClusterSpec(plan["cluster"]), job_name="ps", task_index=0)
    _write(plan["result"], {"role": "ps", "ready": True})
    # Serve until the kit kills us, the kit is gone, or the deadline passes.
    until = time.monotonic() + plan["deadline"]
    while time.monotonic() < until and os.getppid() == plan["kit_pid"]:
        time.sleep(0.2)
    del server


def main(argv: list[str]) -> int:
    die_with_parent(os.getppid())
    with open(argv[1], encoding="utf-8") as f:
        plan = json.load(f)
    if os.getppid() != plan["kit_pid"]:
        return 3  # the kit died before PR_SET_PDEATHSIG took effect: nobody to serve
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if plan["role"] == "ps":
        run_ps(plan)
    else:
        run_training_task(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
