# ruff: noqa
# fmt: off
# Vendored verbatim (two classes) from:
#   repository: https://github.com/google-research/tensor2robot
#   path:       hooks/checkpoint_hooks.py
#   commit:     034f49c435168151930c6a07abea48b0df58b74b
#   licence:    Apache License 2.0; the file's notice is reproduced below, unchanged.
# Not changed: the bodies of _DirectoryVersionGC and CheckpointExportListener.
# Left out: LaggedCheckpointListener, copy_fn and the imports only they use
# (distutils.dir_util, functools, typing).  Lint and formatting are off for this
# file so that the classes stay byte-for-byte as published.
#
# coding=utf-8
# Copyright 2024 The Tensor2Robot Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""CheckpointSaverListener hooks for exporting SavedModels."""

import collections
import os

from absl import logging
import six
import tensorflow.compat.v1 as tf  # tf


class _DirectoryVersionGC(object):
  """Observes a stream of incoming directories, and removes the oldest item."""

  def __init__(self, num_versions):
    self._queue = collections.deque()
    self._num_versions = num_versions

  def observe(self, directory):
    self._queue.append(directory)
    self._remove_if_necessary()

  def observe_multiple(self, directory_list):
    self._queue.extend(directory_list)
    self._remove_if_necessary()

  def _remove_if_necessary(self):
    while len(self._queue) > self._num_versions:
      tf.io.gfile.rmtree(self._queue.popleft())


class CheckpointExportListener(tf.train.CheckpointSaverListener):
  """Listener that exports the model after creating a checkpoint.

  This is used to support Tensorflow serving for remote inference during
  training and evaluation of Tensorflow models.
  """

  def __init__(self,
               export_fn,
               export_dir,
               num_versions = None):
    """Initializes a `CheckpointExportListener`.

    Args:
      export_fn: function which exports the model.
      export_dir: directory to export models
      num_versions: number of exports to keep. If unset, keep all exports.
    """
    self._export_fn = export_fn
    self._export_dir = six.ensure_text(export_dir)
    tf.io.gfile.makedirs(self._export_dir)
    self._gc = None
    if num_versions:
      self._gc = _DirectoryVersionGC(num_versions)
      export_dir_contents = sorted(tf.gfile.ListDirectory(self._export_dir))
      self._gc.observe_multiple([
          os.path.join(self._export_dir, filename)
          for filename in export_dir_contents
      ])

  def after_save(self, session, global_step):
    logging.info('Exporting SavedModel at global_step %d', global_step)
    exported_path = six.ensure_text(
        self._export_fn(self._export_dir, global_step))
    logging.info('Saved model to %s', exported_path)
    if self._gc:
      self._gc.observe(exported_path)
    return exported_path
