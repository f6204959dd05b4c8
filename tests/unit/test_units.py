"""core.units: one unit, factor and number of decimals per quantity (the committee's percent convention)."""

from vcmbench.core import units


def test_fraction_keys_show_in_percent_and_error_keys_as_stored():
    for key in ("AP", "AP50", "map50", "map", "MOTA", "IDF1", "mIoU"):
        assert units.is_fraction_key(key), key
        assert units.accuracy(key).text(0.625418) == "62.542"
        assert units.accuracy(key).header("mAP") == "mAP (%)"
    for key in ("mae", "mse", "mapx"):
        assert not units.is_fraction_key(key), key
        assert units.accuracy(key).text(5.2104) == "5.210"
    for key in ("psnr", "psnr_rgb", "psnr_y"):  # picture quality: dB with 2 decimals, MS-SSIM with 4
        assert not units.is_fraction_key(key)
        assert units.accuracy(key).text(37.7751, unit=True) == "37.78 dB"
        assert units.accuracy(key).header() == f"{key} (dB)"
        assert units.bd_accuracy(key).text(0.4567, unit=True) == "+0.46 dB"
    assert units.accuracy("ms_ssim").text(0.98123456) == "0.9812"


def test_bd_quantities_are_signed_with_their_unit():
    assert units.BD_RATE.text(-23.1714, unit=True) == "-23.17 %"
    assert units.bd_accuracy("AP").text(0.0403, unit=True) == "+4.03 pp"
    assert units.bd_accuracy("mae").text(-0.5, unit=True) == "-0.50"
    assert units.BD_RATE.xlsx_format == "+0.00;-0.00;0.00"
    assert units.BPP.xlsx_format == "0.0000"


def test_rates_overlap_and_scale():
    assert units.rate("bpp").text(0.123456) == "0.1235"
    assert units.rate("kbps").text(812.4) == "812.40"
    assert units.OVERLAP.text(0.875, unit=True) == "87.5 %"
    assert units.scale_text(0.75) == "75 %"
    assert units.accuracy("AP").text(None) == ""
    assert units.BD_RATE.text(1e302).startswith("+1.00e+302")
