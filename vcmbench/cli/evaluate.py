"""``vcmbench evaluate``: task accuracy from prediction files (COCO AP, OID challenge mAP, Cityscapes AP, MOTA)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from .common import echo_json, table
from .params import FRACTION, IOU, RegularFile


def _fingerprint(*paths) -> str:
    """Short content hash of the ground-truth files (the signature's ``gthash`` part)."""
    from ..core.hashing import file_digest

    digests = "".join(file_digest(p, "sha256") for p in paths if p is not None)
    return hashlib.sha256(digests.encode()).hexdigest()[:12]


def _signature(map_part: str, gt_hash: str | None) -> str:
    """``map`` named as the conditions name it (``oid-challenge-bbox``, ``coco-ap-segm``…),
    ``gt:annotations`` (scored against annotations) and ``gthash``, a content hash of the GT files."""
    from ..core.signature import Signature

    sig = Signature.of(map=map_part, gt="annotations")
    if gt_hash:
        sig = sig.with_part("gthash", gt_hash)
    return str(sig.with_version())


def _fmt(v: float, key: str = "AP") -> str:
    """An accuracy in display units (core.units: percent, 3 decimals, for fraction keys); pycocotools' -1 = n/a."""
    from ..core.units import accuracy

    return "n/a" if v == -1.0 else accuracy(key).text(v)


@click.group("evaluate", context_settings={"help_option_names": ["-h", "--help"]})
def evaluate() -> None:
    """Task accuracy of predictions against ground truth: COCO AP, the OpenImages challenge mAP,
    Cityscapes instance AP and tracking MOTA.  Every result names its metric and carries a signature.

    \b
    Example:
      vcmbench evaluate oid --gt-boxes bbox.csv --gt-labels labels.csv --pred pred.csv --json
    """


@evaluate.command("coco")
@click.option("--gt", "gt", required=True, type=RegularFile(), help="COCO instances JSON.")
@click.option("--pred", "pred", required=True, type=RegularFile(),
              help="COCO results JSON (list of {image_id, category_id|category_name, bbox|segmentation, score}).")
@click.option("--iou-type", type=click.Choice(["bbox", "segm"]), default="bbox", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (metric, signature, values).")
def coco_cmd(gt, pred, iou_type, as_json):
    """COCO AP / AR with pycocotools, shown in percent (--json: fractions, as pycocotools gives them; n/a = no
    GT in that area range).

    \b
    Example:
      vcmbench evaluate coco --gt instances_val2017.json --pred detections.json --iou-type bbox
    """
    from ..metrics.coco import STAT_KEYS, coco_evaluate, metric_name

    stats = coco_evaluate(gt, pred, iou_type=iou_type)
    sig = _signature(f"coco-ap-{iou_type}", _fingerprint(gt))
    if as_json:
        echo_json({"metric": metric_name(iou_type), "signature": sig, "values": stats})
        return
    click.echo(f"{metric_name(iou_type)}")
    click.echo(table(["key", "value (%)"], [[k, _fmt(stats[k], k)] for k in STAT_KEYS]))
    click.echo(f"# signature: {sig}")


@evaluate.command("oid")
@click.option("--gt-boxes", type=RegularFile(),
              help="GT boxes CSV (ImageID,LabelName,XMin,XMax,YMin,YMax,IsGroupOf).")
@click.option("--gt-labels", required=True, type=RegularFile(),
              help="Image-level labels CSV (ImageID,LabelName,Confidence).")
@click.option("--pred", required=True, type=RegularFile(),
              help="Predictions CSV (ImageID,LabelName,Score,XMin,XMax,YMin,YMax[,ImageWidth,ImageHeight,Mask]).")
@click.option("--classes", type=RegularFile(),
              help="Class list (one name per line) or .pbtxt label map; default: the classes in the GT.")
@click.option("--segmentation", is_flag=True, help="Instance-segmentation challenge metric (needs --gt-masks).")
@click.option("--gt-masks", type=RegularFile(),
              help="GT masks CSV (box columns + ImageWidth,ImageHeight,Mask).")
@click.option("--iou", "iou_threshold", type=IOU, default=0.5, show_default=True, help="Matching IoU threshold.")
@click.option("--group-of-weight", type=FRACTION, default=1.0, show_default=True,
              help="Weight of group-of boxes (1.0: what oid_challenge_evaluation runs, detection and "
                   "segmentation; 0.0: the TF OD API OpenImagesInstanceSegmentationChallengeEvaluator).")
@click.option("--per-class", is_flag=True, help="Also list the AP of every class.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (metric, signature, mAP, counts[, per-class]).")
def oid_cmd(gt_boxes, gt_labels, pred, classes, segmentation, gt_masks, iou_threshold, group_of_weight, per_class,
            as_json):
    """OpenImages challenge mAP (the TF OD API oid_challenge_evaluation rules, native numpy).

    Matches the TF OD API evaluator bit for bit (group-of weight 1 unless told otherwise); classes
    without ground truth are listed, not averaged; predictions of classes outside the class list
    are dropped and counted.

    \b
    Example:
      vcmbench evaluate oid --gt-boxes detection_validation_5k_bbox.csv \\
          --gt-labels detection_validation_labels_5k.csv --pred pred.csv \\
          --classes selected_classes.txt --per-class
    """
    from ..core.errors import UsageError
    from ..metrics.openimages import load_oid_ground_truth, oid_evaluate

    if segmentation and not gt_masks:
        raise UsageError("--segmentation needs --gt-masks MASKS.csv (the GT masks).")
    if not gt_boxes and not gt_masks:
        raise UsageError("Give --gt-boxes (and --gt-masks for segmentation).")
    gt = load_oid_ground_truth(gt_boxes, gt_labels, classes, masks_csv=gt_masks if segmentation else None)
    res = oid_evaluate(gt, pred, segmentation=segmentation, iou_threshold=iou_threshold,
                       group_of_weight=group_of_weight)
    sig = _signature(res.signature_part, _fingerprint(gt_boxes, gt_labels, gt_masks if segmentation else None, classes))
    if as_json:
        echo_json({**res.to_dict(per_class=per_class), "signature": sig})
        return
    click.echo(f"{res.metric_name}: {_fmt(res.map, 'map')} %  ({len(res.per_class)} classes with ground truth; "
               "--json gives the fraction)")
    c = res.counts
    click.echo(f"predictions {c['predictions']}: evaluated {c['evaluated']}, dropped: unknown image "
               f"{c['dropped_unknown_image']}, class not in list {c['dropped_unlisted_class']}, "
               f"class not evaluable on the image {c['dropped_not_evaluable']}, invalid box {c['dropped_invalid_box']}")
    if res.classes_without_gt:
        click.echo(f"classes without ground truth (not averaged): {', '.join(res.classes_without_gt)}")
    if per_class:
        click.echo(table(["class", "AP (%)", "num_gt"],
                         [[k, _fmt(v), f"{res.num_gt[k]:g}"] for k, v in res.per_class.items()]))
    click.echo(f"# signature: {sig}")


@evaluate.command("cityscapes")
@click.option("--gt", "gt_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder with *_gtFine_instanceIds.png (searched recursively).")
@click.option("--pred", "pred_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder with one <city>_<seq>_<frame>*.txt per image (lines: mask.png labelId score).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (metric, signature, AP, AP50, per class).")
def cityscapes_cmd(gt_dir, pred_dir, as_json):
    """Cityscapes instance-segmentation AP with the official cityscapesscripts evaluator.

    \b
    Example:
      vcmbench evaluate cityscapes --gt gtFine/val --pred results/ --json
    """
    from ..metrics.cityscapes import cityscapes_instance_ap

    res = cityscapes_instance_ap(gt_dir, pred_dir)
    files = sorted(Path(gt_dir).rglob("*_gtFine_instanceIds.png"))
    sig = _signature("cityscapes-ap-segm", _fingerprint(*files))
    if as_json:
        echo_json({**res, "signature": sig})
        return
    click.echo(f"{res['metric']}: AP {_fmt(res['AP'])} %  AP50 {_fmt(res['AP50'], 'AP50')} %  ({res['images']} images)")
    click.echo(table(["class", "AP (%)", "AP50 (%)"],
                     [[k, _fmt(v["ap"]), _fmt(v["ap50"], "AP50")] for k, v in res["per_class"].items()]))
    click.echo(f"# signature: {sig}")


@evaluate.command("mot")
@click.option("--gt", "gt_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="MOTChallenge layout: GT_DIR/SEQ/gt/gt.txt and GT_DIR/SEQ/seqinfo.ini (or one SEQ folder).")
@click.option("--pred", "pred_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="One MOT result file per sequence, PRED_DIR/SEQ.txt (lines: frame,id,x,y,w,h,score,...).")
@click.option("--dataset", type=click.Choice(["tvd", "hieve"]), default="tvd", show_default=True,
              help="Whose scoring rules: tvd (distractor step, class-1 GT, solver lap) or hieve "
                   "(GT with confidence >= 1, solver munkres).")
@click.option("--pred-offset", is_flag=True,
              help="Shift tracker x, y by -1 too (the reference's apply_pred_offset; its VCM-mode TVD script only).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (metric, signature, every motmetrics column per sequence and OVERALL).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="Also write the sequences and their class at this one rate point as the reference's "
                   "final_TVD.csv / final_HIEVE.csv (needs --bitstreams and --qp).")
@click.option("--bitstreams", "bs_dir", type=click.Path(exists=True, file_okay=False),
              help="With --csv: one bitstream per sequence, BITSTREAMS/SEQ.<ext> (its size gives the kbps).")
@click.option("--qp", type=int, help="With --csv: the QP of this rate point (the sequence rows' qp).")
@click.option("--class-name", help="With --csv: the class row's name (default TVD for --dataset tvd; "
                                   "HiEve: HIEVE-1080P or HIEVE-720P, scoring that class's sequences).")
def mot_cmd(gt_dir, pred_dir, dataset, pred_offset, as_json, csv_path, bs_dir, qp, class_name):
    """Tracking metrics (MOTA, IDF1, ID switches, FP, FN, ...) per sequence and for all sequences
    together (the OVERALL row: the committee's class MOTA), computed by py-motmetrics 1.4.0 with the
    settings CompressAI-Vision uses for TVD or HiEve.  Ground-truth x, y are shifted by -1 on reading
    (motmetrics), tracker boxes are not.  MOTP is motmetrics' mean IoU distance (1 - IoU) of matches.

    With --csv, the rows of CompressAI-Vision's final_TVD.csv / final_HIEVE.csv for this one rate point:
    each sequence (by name) with kbps = bitstream bits x frameRate / (1000 x seqLength) from its
    seqinfo.ini and MOTA in percent, then the class row (qp 0 = its rank, duration-weighted kbps,
    OVERALL MOTA).  Files of several rate points are the output of video runs (`vcmbench results`).

    \b
    Example:
      vcmbench evaluate mot --gt TVD/ --pred tracks/ --dataset tvd --json
      vcmbench evaluate mot --gt TVD/ --pred tracks/ --csv final_TVD.csv --bitstreams bs/ --qp 37
    """
    from ..core.units import accuracy
    from ..metrics.mot import DATASETS, OVERALL, evaluate_dirs

    if csv_path is None and (bs_dir is not None or qp is not None or class_name is not None):
        from ..core.errors import UsageError

        raise UsageError("--bitstreams, --qp and --class-name only shape the --csv file; add --csv PATH.")
    if csv_path is not None and (bs_dir is None or qp is None or (class_name is None and dataset != "tvd")):
        from ..core.errors import UsageError

        raise UsageError("--csv needs --bitstreams DIR and --qp QP (and, for hieve, --class-name HIEVE-1080P or "
                         "HIEVE-720P); e.g. --csv final_TVD.csv --bitstreams bs/ --qp 37.")
    res = evaluate_dirs(Path(gt_dir), Path(pred_dir), dataset, pred_offset=pred_offset)
    if csv_path is not None:
        _write_mot_csv(res, Path(gt_dir), Path(bs_dir), qp, class_name or "TVD", Path(csv_path))
    root = Path(gt_dir)
    gt_files = sorted(root.glob("gt/gt.txt")) + sorted(root.glob("*/gt/gt.txt"))
    gt_files += sorted(root.glob("seqinfo.ini")) + sorted(root.glob("*/seqinfo.ini"))
    sig = _signature(f"motmetrics-{dataset}" + ("-predoffset" if pred_offset else ""), _fingerprint(*gt_files))
    if as_json:
        out = {**res.to_dict(), "pred_offset": pred_offset, **({"final_csv": str(csv_path)} if csv_path else {})}
        for row in list(out["sequences"].values()) + [out["overall"]]:
            row["mota_pct"] = None if row["mota"] is None else round(row["mota"] * 100.0, 10)
        echo_json({**out, "signature": sig})
        return

    def pct(row, key):
        return "n/a" if row[key] is None else accuracy(key).text(row[key])

    rows = [[name, pct(r, "mota"), pct(r, "idf1"), pct(r, "motp"), r["num_switches"], r["num_false_positives"],
             r["num_misses"], r["num_fragmentations"], r["mostly_tracked"], r["mostly_lost"],
             r["num_unique_objects"]]
            for name, r in list(res.sequences.items()) + [(OVERALL, res.overall)]]
    click.echo(f"{res.to_dict()['metric']}: MOTA {pct(res.overall, 'mota')} % over {len(res.sequences)} sequence(s)")
    click.echo(table(["sequence", "MOTA (%)", "IDF1 (%)", "MOTP (%)", "IDSW", "FP", "FN", "Frag", "MT", "ML",
                      "objects"], rows))
    st = DATASETS[dataset]
    if st.sequence_solver != st.class_solver:
        click.echo(f"# OVERALL is the reference's class row: its assignment ties are solved by {st.class_solver}, "
                   f"the sequences' by {st.sequence_solver} (as CompressAI-Vision does)")
    if csv_path:
        click.echo(f"final CSV (one rate point, QP {qp}): {csv_path}")
    click.echo(f"# signature: {sig}")


def _write_mot_csv(res, gt_dir: Path, bs_dir: Path, qp: int, class_name: str, out: Path) -> None:
    """``--csv`` of ``evaluate mot``: bits from BITSTREAMS/SEQ.*, frames and fps from GT_DIR/SEQ/seqinfo.ini."""
    from ..core.errors import DataError
    from ..core.jsonio import atomic_write_text
    from ..metrics.mot import final_csv_point, read_seqinfo
    from ..metrics.video import write_final_csv

    single = (gt_dir / "gt" / "gt.txt").is_file()
    infos, bits = {}, {}
    for name in res.sequences:
        infos[name] = read_seqinfo((gt_dir if single else gt_dir / name) / "seqinfo.ini")
        found = sorted(p for p in bs_dir.glob(f"{name}.*") if p.is_file() and p.stem == name)
        if len(found) != 1:
            raise DataError(f"{'No' if not found else 'More than one'} bitstream {bs_dir}/{name}.* for sequence {name}; "
                            "put exactly one bitstream per sequence, named after it.")
        bits[name] = found[0].stat().st_size * 8
    atomic_write_text(out, write_final_csv(final_csv_point(res, infos, bits, qp, class_name)))


def _weights(text: str):
    from ..core.errors import UsageError

    if text in ("6:1:1", "4:1:1"):
        return text
    try:
        w = [float(x) for x in text.replace(":", ",").split(",")]
    except ValueError:
        w = []
    if len(w) != 3 or min(w) < 0 or sum(w) <= 0:
        raise UsageError(f"--yuv-weights {text!r}: give 6:1:1 (JVET), 4:1:1 or three non-negative numbers like 6:1:1.")
    return w


@evaluate.command("quality")
@click.argument("ref", type=click.Path(exists=True))
@click.argument("test", type=click.Path(exists=True))
@click.option("--yuv-weights", default="6:1:1", show_default=True,
              help="Weights of the YUV PSNR: 6:1:1 (JVET), 4:1:1 (the seed study) or three numbers wY:wU:wV.")
@click.option("--color", default="bt601-full-numpy", show_default=True,
              help="Colour conversion of both pictures for the YUV PSNR (a numpy mode of `vcmbench` colour modes).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (per pair and mean).")
def quality_cmd(ref, test, yuv_weights, color, as_json):
    """Picture quality of TEST against REF: RGB PSNR, Y/U/V PSNR, weighted YUV PSNR and MS-SSIM.

    REF and TEST are two pictures (PNG, JPEG...) or two folders holding the same file stems; each
    pair must have the same size.  The last row is the mean over the pairs (PSNR in dB averaged per
    picture).  n/a: not finite (identical pictures) or MS-SSIM of a picture under 176 samples.

    \b
    Example:
      vcmbench evaluate quality original.png decoded.png
      vcmbench evaluate quality originals/ decoded/ --yuv-weights 4:1:1 --json
    """
    from ..metrics.picture_files import compare_pictures

    res = compare_pictures(ref, test, _weights(yuv_weights), color)
    if as_json:
        echo_json(res)
        return
    keys = ("psnr_rgb", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "ms_ssim")

    from ..core.units import MSSSIM, PSNR

    def cell(k, v):  # PSNR in dB with 2 decimals, MS-SSIM with 4 (core.units)
        return "n/a" if v is None else (MSSSIM if k == "ms_ssim" else PSNR).text(v)

    rows = [[r["name"], f"{r['width']}x{r['height']}", *[cell(k, r[k]) for k in keys]] for r in res["pairs"]]
    rows.append(["mean", f"{res['count']} pair(s)", *[cell(k, res["mean"][k]) for k in keys]])
    click.echo(table(["picture", "size", "PSNR RGB (dB)", "PSNR Y (dB)", "PSNR U (dB)", "PSNR V (dB)",
                      f"PSNR YUV {yuv_weights} (dB)", "MS-SSIM"], rows, optional=["size"]))
    click.echo(f"YUV: {res['pairs'][0]['yuv']}")
