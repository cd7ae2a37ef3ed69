"""Chief-only checkpointing in between-graph replication, runnable on one machine.

    python examples/chief_only_training.py [--steps 20] [--dir /tmp/chief-only]

Starts a parameter server, a chief and a worker, each in its own process on free
127.0.0.1 ports, and trains a toy model with ``MonitoredTrainingSession``. The
``CheckpointSaverHook`` (with a listener) goes in ``chief_only_hooks``: only the chief
saves and calls the listener (spec DIST-1). Every worker, the chief included, stops at
its own step limit (``StopAtStepHook``), since a stop requested on the chief would not
stop the others (DIST-4). Prints what each task did and the checkpoints written.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def task(role: str, index: int, cluster: dict, checkpoint_dir: str, steps: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    v1 = tf.compat.v1
    spec = v1.train.ClusterSpec(cluster)
    server = v1.train.Server(spec, job_name=role, task_index=index)
    if role == "ps":
        server.join()  # serves until the launcher terminates it
    is_chief = index == 0
    saved: list[int] = []

    class Announce(v1.train.CheckpointSaverListener):
        def after_save(self, session, global_step_value):
            saved.append(int(global_step_value))  # a real one would evaluate or export

    with tf.Graph().as_default():  # a TF1-style graph, as MonitoredTrainingSession needs
        device = v1.train.replica_device_setter(
            cluster=spec, worker_device=f"/job:worker/task:{index}"
        )
        with v1.device(device):
            global_step = v1.train.get_or_create_global_step()
            weight = v1.get_variable("w", initializer=0.0)
            train_op = tf.group(weight.assign_add(1.0), v1.assign_add(global_step, 1))
        saver_hook = v1.train.CheckpointSaverHook(
            checkpoint_dir, save_steps=5, listeners=[Announce()]
        )
        with v1.train.MonitoredTrainingSession(
            master=server.target,
            is_chief=is_chief,
            checkpoint_dir=checkpoint_dir,  # the chief restores from here
            save_checkpoint_secs=None,  # no saver hook of its own: ours is chief-only
            save_checkpoint_steps=None,
            save_summaries_steps=None,
            save_summaries_secs=None,
            log_step_count_steps=None,
            chief_only_hooks=[saver_hook],
            hooks=[v1.train.StopAtStepHook(last_step=steps)],
            config=v1.ConfigProto(device_filters=["/job:ps", f"/job:worker/task:{index}"]),
        ) as sess:
            while not sess.should_stop():
                sess.run(train_op)
    print(json.dumps({"task": f"worker:{index}", "chief": is_chief, "listener_saw": saved}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dir", default=None, help="checkpoint directory (default: a temp dir)")
    parser.add_argument("--task", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--cluster", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.task:  # a child: run one task
        task(args.task[0], int(args.task[1]), json.loads(args.cluster), args.dir, args.steps)
        return 0

    checkpoint_dir = args.dir or tempfile.mkdtemp(prefix="chief-only-")
    ports = free_ports(3)
    cluster = {
        "ps": [f"127.0.0.1:{ports[0]}"],
        "worker": [f"127.0.0.1:{ports[1]}", f"127.0.0.1:{ports[2]}"],
    }
    common = ["--cluster", json.dumps(cluster), "--dir", checkpoint_dir, "--steps", str(args.steps)]
    run = [sys.executable, os.path.abspath(__file__)]
    ps = subprocess.Popen([*run, "--task", "ps", "0", *common])
    try:
        workers = [subprocess.Popen([*run, "--task", "worker", str(i), *common]) for i in (0, 1)]
        codes = [w.wait(timeout=300) for w in workers]
    finally:
        ps.terminate()
        ps.wait(timeout=30)
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(checkpoint_dir)
    names = [os.path.basename(p) for p in state.all_model_checkpoint_paths] if state else []
    print(json.dumps({"checkpoints": names}))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
