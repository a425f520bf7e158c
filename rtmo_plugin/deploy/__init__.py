"""Deployment of plugin RTMO models: ONNX export, a fused deploy-time model, int8, bf16.

- :mod:`.export`: ``export_onnx`` writes a graph with decoding and NMS inside,
  in rtmlib's I/O convention (``input [1, 3, H, W]`` BGR 0-255 letterboxed with
  114; ``dets [1, N, 5]``, ``keypoints [1, N, K, 3]`` in input pixels).
- :mod:`.fuse`: ``fuse_for_deploy`` (RepVGG re-parameterisation, BN folding,
  training-only branches removed).
- :mod:`.quantize`: dynamic and static int8 with onnxruntime.
- :mod:`.backends`: every inference path (``build_backends``); their latency and COCO AP
  are measured by the harness (:mod:`rtmo_plugin.lab.deploy_bench`,
  :mod:`rtmo_plugin.lab.deploy_eval`).

The onnxruntime runner lives in the top-level package :mod:`rtmo_ort`, which
imports nothing from torch or OpenMMLab (``import rtmo_plugin`` imports MMPose
to register the head). CLI: ``python -m rtmo_plugin.deploy {export,bench,eval}``
and ``python -m rtmo_ort MODEL IMAGES``.
"""
