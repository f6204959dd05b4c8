"""Task and quality metrics: rate (bpp/kbps), COCO AP, the OpenImages challenge metric,
image/feature quality (PSNR, SSIM, MS-SSIM, MAE) and Cityscapes instance AP.

Modules are imported on demand (``from vcmbench.metrics import openimages``); this package
imports nothing heavy itself.
"""
