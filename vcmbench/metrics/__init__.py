"""Task and quality metrics.

* ``rate``        dataset bpp (Σ bits / Σ original pixels), per-image bpp, kbps, bits of a file.
* ``coco``        COCO AP/AR through pycocotools (bbox, segm), explicit category mapping.
* ``openimages``  the OpenImages challenge metric (detection, instance segmentation), native numpy;
  ``oid_gt`` / ``oid_io`` read its CSV formats and class lists and encode mask cells.
* ``quality``     PSNR (per plane, weighted YUV), SSIM, MS-SSIM, MAE, feature PSNR.
* ``cityscapes``  Cityscapes instance AP through the official cityscapesscripts evaluator.

Modules are imported on demand (``from vcmbench.metrics import openimages``); this package
imports nothing heavy itself.
"""
