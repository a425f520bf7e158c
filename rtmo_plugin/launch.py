"""Multi-process start-up on CPU-only machines, shared by tools/train.py and tools/test.py."""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config


def prepare_cpu_processes(cfg: Config, launcher: str) -> None:
    """Makes ``--launcher pytorch`` work on a machine without GPUs (gloo backend).

    mmengine 0.10.7 assumes a GPU per process there: its launcher calls
    ``torch.cuda.set_device`` and its DDP wrapper passes ``device_ids=[LOCAL_RANK]``, both
    of which fail on CPU. The Runner skips its own start-up when a process group exists,
    so this starts one from the variables torchrun sets, and wraps the model without
    device ids. With GPUs, or with one process, nothing changes.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                world_size=int(os.environ['WORLD_SIZE']))
    if cfg.get('model_wrapper_cfg') is None:
        # explicit None: the Runner only fills device_ids in when the config has none
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                                     device_ids=None)
