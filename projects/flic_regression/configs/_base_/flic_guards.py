# The plugin's guards, shared by every FLIC config (each merges these into its default_hooks
# and sets optim_wrapper.type = 'FiniteOptimWrapper', which skips any step whose loss or
# gradients are not finite and stops after 5 in a row):
# - non_finite: names the loss terms that went NaN/inf;
# - data_check: before iteration 1, scans every train/val image (missing, empty, truncated
#   or undecodable files stop the run, listed by path) and drops annotations with non-finite
#   values, naming the file and the example (annotation id = examples(i) in examples.mat);
#   before testing, scans the test images;
# - keypoint_finetune: load_from a checkpoint of another keypoint set re-initialises only the
#   keypoint-specific tensors (listed); any other shape mismatch is an error.
flic_guard_hooks = dict(
    non_finite=dict(type='NonFiniteLossHook'),
    data_check=dict(type='DataCheckHook', skip_bad_images=False),
    keypoint_finetune=dict(type='KeypointFinetuneHook'))
