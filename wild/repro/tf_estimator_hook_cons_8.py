"""The same reproduction as tf_hook_cons_8.py, on the tf.estimator alias (TF <= 2.15)."""

import runpy

import tensorflow as tf

HOOK = tf.estimator.CheckpointSaverHook
runpy.run_path(__file__.replace("tf_estimator_hook_", "tf_hook_"), run_name="__main__")
