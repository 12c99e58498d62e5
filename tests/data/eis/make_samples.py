"""Write the SYNTHETIC sample spectra of this folder (run once; the files are committed).

Every file comes from a known circuit, not from a measurement, and says so in its comments
together with the circuit parameters where its format has room for text (README.md lists them
all).  Z'' < 0 on the arcs.  The instrument files are written in the layouts of those
instruments' exports (Gamry DTA, ZPlot, Z60W, VersaStudio PAR, Autolab Nova, CH Instruments,
Parstat, PowerSuite, EC-Lab 11.61), at the precision those instruments write; :data:`TRUTH`
holds what each should read as.

    python tests/data/eis/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def rc_series(frequency, r0, *arcs):
    """R0 - p(R1,C1) - p(R2,C2) - ...: Z in the unit of the R's (C in F, or F/cm^2 with ohm*cm^2)."""
    omega = 2 * np.pi * np.asarray(frequency, dtype=float)
    z = np.full(omega.shape, r0, dtype=complex)
    for r, c in arcs:
        z += r / (1 + 1j * omega * r * c)
    return z


def brackets_csv():
    f = np.geomspace(1e6, 10, 30)
    z = rc_series(f, 12.0, (150.0, 2e-8))
    lines = ["# SYNTHETIC spectrum, not measured: R0-p(R1,C1) with R0 = 12 ohm, R1 = 150 ohm, C1 = 2e-8 F",
             "# 30 points, 1 MHz to 10 Hz; the third column holds -Z'' (positive on the arc)",
             "frequency [kHz],Z_real [ohm],-Im(Z) [ohm],phase [deg]"]
    for fi, zi in zip(f, z):
        lines.append(f"{fi / 1e3:.10g},{zi.real:.10g},{-zi.imag:.10g},{np.degrees(np.angle(zi)):.6g}")
    (HERE / "synthetic_brackets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def suffix_csv():
    f = np.geomspace(1e5, 0.1, 25)
    z = rc_series(f, 8.0, (60.0, 1e-6))
    lines = ["# SYNTHETIC spectrum, not measured: R0-p(R1,C1) with R0 = 8 ohm, R1 = 60 ohm, C1 = 1e-6 F",
             "# temperature = 30 degC",
             "f_Hz,Z_real_ohm,Z_imag_ohm"]
    for fi, zi in zip(f, z):
        lines.append(f"{fi:.10g},{zi.real:.10g},{zi.imag:.10g}")
    (HERE / "synthetic_suffix_30C.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def area_csv():
    f = np.geomspace(1e5, 1, 20)
    z = rc_series(f, 2.0, (40.0, 5e-6))
    lines = ["# SYNTHETIC area-normalised spectrum, not measured: R0-p(R1,C1) with R0 = 2 ohm*cm^2,",
             "# R1 = 40 ohm*cm^2, C1 = 5e-6 F/cm^2",
             "# cycle = 3",
             "frequency [Hz],Z' [ohm*cm^2],Z'' [ohm*cm^2]"]
    for fi, zi in zip(f, z):
        lines.append(f"{fi:.10g},{zi.real:.10g},{zi.imag:.10g}")
    (HERE / "synthetic_area_ohm_cm2.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


ECLAB_COLUMNS = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "|Z|/Ohm", "Phase(Z)/deg", "time/s", "<Ewe>/V",
                 "<I>/mA", "Cs/µF", "Cp/µF", "cycle number", "I Range", "|Ewe|/V", "|I|/A", "Ns",
                 "(Q-Qo)/mA.h", "Re(Y)/Ohm-1", "Im(Y)/Ohm-1", "|Y|/Ohm-1", "Phase(Y)/deg", "dq/mA.h"]


def eclab_rows(f, z, cycle, t0):
    omega = 2 * np.pi * f
    y = 1 / z
    rows = []
    for i, (fi, zi, yi, wi) in enumerate(zip(f.tolist(), z.tolist(), y.tolist(), omega.tolist())):
        cs = -1 / (wi * zi.imag) * 1e6
        cp = yi.imag / wi * 1e6
        values = [fi, zi.real, -zi.imag, abs(zi), np.degrees(np.angle(zi)), t0 + 2.0 * i, 0.0, 0.0, cs, cp,
                  float(cycle), 41, 0.01, 0.01 / abs(zi), 0, 0.0, yi.real, yi.imag, abs(yi),
                  np.degrees(np.angle(yi)), 0.0]
        rows.append(values)
    return rows


def write_mpt(path, header_text, rows, comma=False):
    """EC-Lab's layout: banner, 'Nb header lines : N' (all lines up to the column names), tabs, CRLF."""
    def cell(v):
        text = f"{v:.7E}" if isinstance(v, float) else f"{v}"
        return text.replace(".", ",") if comma else text

    n_header = len(header_text) + 4  # banner, count, blank line, header text, column names
    lines = ["EC-Lab ASCII FILE", f"Nb header lines : {n_header}", "", *header_text,
             "\t".join(ECLAB_COLUMNS) + "\t"]
    lines += ["\t".join(cell(v) for v in row) + "\t" for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))


def two_cycles_mpt():
    f = np.geomspace(1e6, 1, 20)
    z1 = rc_series(f, 10.0, (100.0, 1e-7), (300.0, 1e-4))
    z2 = rc_series(f, 10.0, (110.0, 1e-7), (330.0, 1e-4))
    header = ["Potentio Electrochemical Impedance Spectroscopy", "",
              "Run on channel : 1 (SN 0000)", "User : nassb",
              "Comments : SYNTHETIC spectra, not measured: R0-p(R1,C1)-p(R2,C2), 20 points, 1 MHz to 1 Hz",
              "Comments : cycle 1: R0 = 10 ohm, R1 = 100 ohm, C1 = 1e-7 F, R2 = 300 ohm, C2 = 1e-4 F",
              "Comments : cycle 2: the same with R1 = 110 ohm, R2 = 330 ohm",
              "Temperature : 30 °C",
              "Electrode surface area : 1.000 cm²", "Characteristic mass : 0.001 g",
              "Technique : 1", "PEIS", "Mode                Single sine", "E (V)               0.0000",
              "fi                  1.000 MHz", "ff                  1.000 Hz", "Va (mV)             10.0",
              "nc cycles           1", ""]
    rows = eclab_rows(f, z1, 1, 0.0) + eclab_rows(f, z2, 2, 100.0)
    write_mpt(HERE / "synthetic_two_cycles.mpt", header, rows)


def comma_mpt():
    f = np.geomspace(2e5, 0.5, 25)
    z = rc_series(f, 5.0, (80.0, 3e-7))
    header = ["Potentio Electrochemical Impedance Spectroscopy", "",
              "Comments : SYNTHETIC spectrum, not measured, written with decimal commas as a French EC-Lab does",
              "Comments : R0-p(R1,C1) with R0 = 5 ohm, R1 = 80 ohm, C1 = 3e-7 F; 25 points, 200 kHz to 0.5 Hz",
              "Electrode surface area : 1,000 cm²", "Technique : 1", "PEIS", ""]
    write_mpt(HERE / "synthetic_comma_decimal.mpt", header, eclab_rows(f, z, 1, 0.0), comma=True)


# --------------------------------------------------------------------------------------------
# Instrument layouts.  Each writer returns what the file should read as: a list of spectra
# (frequency in Hz, Z in ohm with Z'' < 0 on a capacitive arc, cycle, temperature in K), and the
# relative precision (of |Z|) at which the instrument writes its numbers.


def cpe(omega, q, n):
    return 1 / (q * (1j * omega) ** n)


def parallel(*impedances):
    return 1 / sum(1 / z for z in impedances)


def warburg_open(omega, z0, tau):
    """impedance.py's Wo: Z0 coth(sqrt(j w tau)) / sqrt(j w tau)."""
    s = np.sqrt(1j * omega * tau)
    return z0 / (s * np.tanh(s))


def warburg_short(omega, z0, tau):
    """impedance.py's Ws: Z0 tanh(sqrt(j w tau)) / sqrt(j w tau)."""
    s = np.sqrt(1j * omega * tau)
    return z0 * np.tanh(s) / s


def gerischer(omega, r, tau):
    """impedance.py's G: R / sqrt(1 + j w tau)."""
    return r / np.sqrt(1 + 1j * omega * tau)


def sweep(f_max, f_min, per_decade):
    return np.geomspace(f_max, f_min, round(abs(np.log10(f_max / f_min)) * per_decade) + 1)


def spectrum(f, z, cycle=None, temperature=None):
    return {"frequency": np.asarray(f, dtype=float), "z": np.asarray(z, dtype=complex), "cycle": cycle,
            "temperature": temperature}


def _crlf(path, lines, encoding="latin-1"):
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def gamry_dta(folder: Path = HERE):
    """Gamry Framework EISPOT: header lines, an OCV table, the ZCURVE table, then an aborted run's
    EXPERIMENTABORTED line and a FRACURVE table (the ZCURVE ends before them)."""
    f = sweep(1e5, 0.05, 4)
    w = 2 * np.pi * f
    z = 15.0 + parallel(200.0, cpe(w, 2e-6, 0.85)) + warburg_open(w, 300.0, 2.0)
    circuit = ("R0-p(R1,CPE1)-Wo1 with R0 = 15 ohm, R1 = 200 ohm, CPE1_Q = 2e-6 F*s^(n-1), CPE1_n = 0.85, "
               "Wo1_Z0 = 300 ohm, Wo1_tau = 2 s")
    lines = ["EXPLAIN", "TAG\tEISPOT", "TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier",
             "DATE\tLABEL\t1/2/2025\tDate", "TIME\tLABEL\t10:00:00\tTime", "NOTES\tNOTES\t2\t&Notes...",
             "\tSYNTHETIC spectrum, not measured", f"\t{circuit}",
             "PSTAT\tPSTAT\tSYNTH-0000\tPotentiostat", "VDC\tPOTEN\t0.00000E+000\tT\tDC &Voltage (V)",
             "FREQINIT\tQUANT\t1.00000E+005\tInitial Fre&q. (Hz)", "FREQFINAL\tQUANT\t5.00000E-002\tFinal Fre&q. (Hz)",
             "PTSPERDEC\tQUANT\t4.00000E+000\tPoints/&decade", "AREA\tQUANT\t1.00000E+000\t&Area (cm^2)",
             "OCVCURVE\tTABLE\t3", "\tPt\tT\tVf\tVm\tAch\tOver\tTemp", "\t#\ts\tV vs. Ref.\tV\tV\tbits\tdeg C"]
    lines += [f"\t{i}\t{0.25 * (i + 1):g}\t-3.46699E-001\t-3.46699E-001\t-5.59133E-004\t..........a\t-327.67"
              for i in range(3)]
    lines += ["EOC\tQUANT\t-0.3466990\tOpen Circuit (V)", "ZCURVE\tTABLE",
              "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tIdc\tVdc\tIERange",
              "\t#\ts\tHz\tohm\tohm\tV\tohm\t°\tA\tV\t#"]
    for i, (fi, zi) in enumerate(zip(f, z)):
        lines.append(f"\t{i}\t{2 * i + 1}\t{fi:.7g}\t{zi.real:.7g}\t{zi.imag:.7g}\t1\t{abs(zi):.7g}\t"
                     f"{np.degrees(np.angle(zi)):.7g}\t-5.89286E-006\t-0.3413299\t9")
    lines += ["EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted", "FRACURVE\tTABLE\t2", "\tPt\tT\tV\tI\tOlCtrl",
              "\t#\tS\tV\tA\tbits", "\t0\t0\t0.1\t1E-6\t0", "\t1\t0.1\t0.1\t1E-6\t0"]
    _crlf(folder / "synthetic_gamry.DTA", lines)
    return [spectrum(f, z)], 1e-6


def zplot_z(folder: Path = HERE):
    """ZPlot's ZPLOT2 ASCII: settings block, column names, 'End Comments', tab-delimited rows
    with 5 significant digits for Z."""
    f = sweep(3e5, 1, 4)
    w = 2 * np.pi * f
    z = 20.0 + parallel(100.0, 1 / (1j * w * 1e-7)) + gerischer(w, 150.0, 1e-2)
    lines = ["ZPLOT2 ASCII", "  Measured Data, ZPlot:       3.2c",
             "  Experiment Type:            Sweep Frequency, Control Voltage",
             "  Date:                       01-02-2025", "  Time:                       10:00:00",
             "  Begin User Comments:        0",
             "  SYNTHETIC spectrum, not measured: R0-p(R1,C1)-G1 with R0 = 20 ohm, R1 = 100 ohm, C1 = 1e-7 F,",
             "  G1_R = 150 ohm, G1_tau = 0.01 s", "  End User Comments:          0",
             "  Begin Experiment:           0", "    Potential-AC:             10",
             "    vs Freq-Initial:          300000", "    vs Freq-Final:            1",
             "  End Experiment:             0", f"  Data Points:                {f.size}",
             "  Freq(Hz)\tAmpl\tBias\tTime(Sec)\tZ'(a)\tZ''(b)\tGD\tErr\tRange", "End Comments"]
    for i, (fi, zi) in enumerate(zip(f, z)):
        lines.append(f"{fi:.6E}\t1.0000E-02\t0.0000E+00\t{2.67 + 0.7 * i:.6E}\t{zi.real:.4E}\t{zi.imag:.4E}\t"
                     "0.0000E+00\t0\t3")
    _crlf(folder / "synthetic_zplot.z", lines)
    return [spectrum(f, z)], 1e-4


def z60w_txt(folder: Path = HERE):
    """The Z60W data file that impedance.py reads as 'Autolab': quoted text lines, the null
    configuration, the point count, quoted column names, comma-delimited rows."""
    f = np.array([float(f"{fi:.5g}") for fi in sweep(1e4, 0.1, 4)])  # Z60W writes 5 digits of frequency
    w = 2 * np.pi * f
    z = 0.0125 + parallel(0.021, cpe(w, 0.5, 0.75))
    lines = ['"Z60W Data File: Version 1.1"', '""',
             ('"SYNTHETIC spectrum, not measured: R0-p(R1,CPE1) with R0 = 0.0125 ohm, R1 = 0.021 ohm, '
             'CPE1_Q = 0.5 F*s^(n-1), CPE1_n = 0.75"'), '""', "0,2,0,1,0.1,10000", str(f.size),
             '"  Freq (Hz)    Ampl     Bias   Time(Sec)   Z\'(a)    Z\'\'(b)    GD   Err   Range"']
    lines += [f"{fi:.5g},0,0,0,{zi.real:.15g},{zi.imag:.15g},0,0,0" for fi, zi in zip(f, z)]
    (folder / "synthetic_z60w_autolab.txt").write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))
    return [spectrum(f, z)], 1e-12


def versastudio_par(folder: Path = HERE):
    """VersaStudio PAR: sections of Key=value lines; the data in <Segment1> under a Definition=
    line whose last name ('0') has no value in the rows."""
    f = sweep(1e5, 0.1, 4)
    w = 2 * np.pi * f
    z = 1j * w * 1e-6 + 50.0 + parallel(80.0, cpe(w, 1e-5, 0.9)) + warburg_short(w, 40.0, 0.5)
    lines = ["<Application>", "Name=VersaStudio", "Version=2.60.3.0", "</Application>", "", "<Action0>",
             "Working Electrode Area (cm2)=1", "Segments=0", "Name=Common",
             ("Comment=SYNTHETIC spectrum, not measured: L0-R0-p(R1,CPE1)-Ws1 with L0 = 1e-6 H, R0 = 50 ohm, "
             "R1 = 80 ohm, CPE1_Q = 1e-5 F*s^(n-1), CPE1_n = 0.9, Ws1_Z0 = 40 ohm, Ws1_tau = 0.5 s"),
             "</Action0>", "", "<Action1>", "Amplitude (mV RMS)=10", "End Frequency (Hz)=0.1",
             "Start Frequency (Hz)=100000", "Segments=1", "Name=Potentiostatic EIS", "</Action1>", "", "<Segment1>",
             "Type=2", "Version=3",
             ("Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), Current Range, Status, Frequency(Hz), "
             "E Real, E Imag, I Real, I Imag, Z Real, Z Imag, ActionId, AC Amplitude, 0")]
    for i, (fi, zi) in enumerate(zip(f, z)):
        current = 0.01 / zi
        lines.append(f"0,{i},0,-3.282372E-06,{1.812 + 0.4 * i:.4g},5,53,{fi:.7g},0.01,0,{current.real:.7g},"
                     f"{current.imag:.7g},{zi.real:.7g},{zi.imag:.7g},21,0.01")
    lines += ["</Segment1>", "", "<Graph1>", "Analysis=0", "</Graph1>"]
    _crlf(folder / "synthetic_versastudio.par", lines, "utf-8")
    return [spectrum(f, z)], 1e-6


def nova_txt(folder: Path = HERE):
    """Autolab Nova's ASCII export in a European locale: semicolons, decimal commas, Ω."""
    f = sweep(1e5, 0.1, 4)
    w = 2 * np.pi * f
    z = 5.0 + parallel(30.0, cpe(w, 5e-6, 0.9)) + parallel(60.0, cpe(w, 1e-3, 0.8))
    lines = ["Index;Frequency (Hz);Z' (Ω);-Z'' (Ω);Z (Ω);-Phase (°);Time (s)"]
    for i, (fi, zi) in enumerate(zip(f, z), start=1):
        cells = [f"{i}", f"{fi:.10g}", f"{zi.real:.10g}", f"{-zi.imag:.10g}", f"{abs(zi):.10g}",
                 f"{-np.degrees(np.angle(zi)):.6g}", f"{1.5 * i:.4g}"]
        lines.append(";".join(cell.replace(".", ",") for cell in cells))
    (folder / "synthetic_nova.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return [spectrum(f, z)], 1e-9


def _chi(value):
    """CH Instruments' numbers: 4 significant digits, exponent without padding (9.891e+1)."""
    mantissa, exponent = f"{value:.3e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


def chi_txt(folder: Path = HERE):
    """CH Instruments' A.C. Impedance text export: banner, settings, 'Freq/Hz, Z'/ohm, ...', a blank
    line, comma-delimited rows of 4 significant digits."""
    f = np.array([float(_chi(fi)) for fi in sweep(1e5, 0.1, 4)])
    w = 2 * np.pi * f
    z = 100.0 + parallel(400.0, 1 / (1j * w * 2e-7)) + 30.0 * (1 - 1j) / np.sqrt(w)
    lines = ["Jan. 2, 2025   10:00:00", "A.C. Impedance", "File: synthetic.bin", "Data Source:  Experiment",
             "Instrument Model:  CHI660E",
             "Header: SYNTHETIC spectrum, not measured: R0-p(R1,C1)-W1 with R0 = 100 ohm, R1 = 400 ohm,",
             "Note: C1 = 2e-7 F, W1 = 30 ohm*s^-0.5", "", "Init E (V) = 0", "High Frequency (Hz) = 1e+5",
             "Low Frequency (Hz) = 0.1", "Imp SF", "Amplitude (V) = 0.005", "Quiet Time (sec) = 2",
             "Cycles (.1-1Hz) = 1", "", 'Freq/Hz, Z\'/ohm, Z"/ohm, Z/ohm, Phase/deg', ""]
    lines += [f"{_chi(fi)}, {_chi(zi.real)}, {_chi(zi.imag)}, {_chi(abs(zi))}, {np.degrees(np.angle(zi)):.1f}"
              for fi, zi in zip(f, z)]
    (folder / "synthetic_chi.txt").write_text("\n".join(lines) + "\n", encoding="ascii")
    return [spectrum(f, z)], 1e-3


def parstat_txt(folder: Path = HERE):
    """Parstat's tab-delimited export: DC rows (f = 0, no impedance) before the sweep, a tab at
    the end of every line."""
    f = sweep(1e4, 1, 4)
    w = 2 * np.pi * f
    z = 0.02 + parallel(0.01, cpe(w, 2.0, 0.8))
    lines = [("Potential (V)\tCurrent (A)\tElapsed Time (s)\tFrequency (Hz)\tZre (ohms)\tZim (ohms)\t|Vac| (V)\t"
             "|Iac| (A)\t")]
    lines += [f"{3.4932 - 0.001 * i:.6g}\t-0.149962\t{10 * (i + 1)}\t0\t0\t0\t0\t0\t" for i in range(4)]
    for i, (fi, zi) in enumerate(zip(f, z)):
        lines.append(f"3.500294\t0.02457479\t{7700 + 1.5 * i:.10g}\t{fi:.15g}\t{zi.real:.15g}\t{zi.imag:.15g}\t"
                     f"0.004934\t{0.004934 / abs(zi):.6g}\t")
    (folder / "synthetic_parstat.txt").write_text("\n".join(lines) + "\n", encoding="ascii")
    return [spectrum(f, z)], 1e-12


def powersuite_txt(folder: Path = HERE):
    """PowerSuite: 'Frequency<tab> Zre<tab> Zimg', from low to high frequency, lines ending in CR CR LF."""
    f = sweep(0.1, 2e6, 3)
    w = 2 * np.pi * f
    z = 1e3 + parallel(2e5, 1 / (1j * w * 5e-11)) + parallel(2.5e5, 1 / (1j * w * 1e-7))
    lines = ["Frequency\t Zre\t Zimg"] + [f"{fi:.8g}\t {zi.real:.8g}\t {zi.imag:.8g}" for fi, zi in zip(f, z)]
    (folder / "synthetic_powersuite.txt").write_bytes(("\r\r\n".join(lines) + "\r\r\n").encode("ascii"))
    return [spectrum(f, z)], 1e-7


ECLAB_1161_COLUMNS = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "|Z|/Ohm", "Phase(Z)/deg", "time/s", "<Ewe>/V",
                      "<I>/mA", "Cs/µF", "Cp/µF", "cycle number", "I Range", "|Ewe|/V", "|I|/A", "Ns",
                      "(Q-Qo)/mA.h", "Re(Y)/Ohm-1", "Im(Y)/Ohm-1", "|Y|/Ohm-1", "Phase(Y)/deg", "dq/mA.h", "x"]


def eclab_1161_mpt(folder: Path = HERE):
    """EC-Lab 11.61 PEIS with 3 cycles: the rows leave out the last, unused column ('x') and end
    without a tab; a rest step's rows (f = 0) precede each cycle, as in a modular file."""
    f = sweep(2e5, 0.5, 3)
    w = 2 * np.pi * f
    truth, rows = [], []
    for cycle, r2 in ((1, 200.0), (2, 220.0), (3, 250.0)):
        z = 10.0 + parallel(100.0, cpe(w, 1e-7, 0.9)) + parallel(r2, cpe(w, 1e-4, 0.8))
        truth.append(spectrum(f, z, cycle=cycle))
        rest = [0.0, 0.0, 0.0, 0.0, 0.0, 100.0 * cycle, 3.1, 0.0, 0.0, 0.0, float(cycle), 41, 0.0, 0.0, 0, 0.0,
                0.0, 0.0, 0.0, 0.0, 0.0]
        rows += [rest, rest]
        rows += [row[:21] for row in eclab_rows(f, z, cycle, 100.0 * cycle + 10)]
    header = ["Potentio Electrochemical Impedance Spectroscopy", "", "Run on channel : 1 (SN 0000)", "User : ",
              "EC-LAB for windows v11.61 (software)", "Internet server v11.61 (firmware)",
              "Comments : SYNTHETIC spectra, not measured: R0-p(R1,CPE1)-p(R2,CPE2), 3 cycles of 18 points",
              "Comments : R0 = 10 ohm, R1 = 100 ohm, CPE1 = 1e-7 F*s^(n-1), 0.9, CPE2 = 1e-4 F*s^(n-1), 0.8",
              "Comments : R2 = 200, 220 and 250 ohm in cycles 1, 2 and 3",
              "Electrode surface area : 1.000 cm²", "Cycle Definition : Charge/Discharge alternance",
              "Mode                Single sine", "fi                  200.000", "unit fi             kHz",
              "ff                  500.000", "unit ff             mHz", "nc cycles           2", ""]
    n_header = len(header) + 4

    def cell(v):
        return f"{v:.7E}" if isinstance(v, float) else f"{v}"

    lines = ["EC-Lab ASCII FILE", f"Nb header lines : {n_header}", "", *header,
             "\t".join(ECLAB_1161_COLUMNS) + "\t"]
    lines += ["\t".join(cell(v) for v in row) for row in rows]
    _crlf(folder / "synthetic_eclab_v11_61.mpt", lines)
    return truth, 1e-7


def preamble_txt(folder: Path = HERE):
    """A spreadsheet's table: title lines and a temperature above the header, ';' and decimal
    commas, a 'Z_img' column, and f = 0 rows (a DC measurement) at the start."""
    f = sweep(1e5, 1, 4)
    w = 2 * np.pi * f
    z = 3.0 + parallel(45.0, 1 / (1j * w * 4e-7))
    lines = ["SYNTHETIC spectrum, not measured: R0-p(R1,C1) with R0 = 3 ohm, R1 = 45 ohm, C1 = 4e-7 F",
             "Sample: pellet 7; operator: nobody", "temperature = 60 degC", "",
             "f [Hz];Z_re [ohm];Z_img [ohm];|Z| [ohm]", "0;48;0;48", "0;48;0;48"]
    lines += [";".join(f"{v:.10g}".replace(".", ",") for v in (fi, zi.real, zi.imag, abs(zi))) for fi, zi in zip(f, z)]
    (folder / "synthetic_preamble.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [spectrum(f, z, temperature=333.15)], 1e-9


INSTRUMENT_SAMPLES = {
    "synthetic_gamry.DTA": gamry_dta,
    "synthetic_zplot.z": zplot_z,
    "synthetic_z60w_autolab.txt": z60w_txt,
    "synthetic_versastudio.par": versastudio_par,
    "synthetic_nova.txt": nova_txt,
    "synthetic_chi.txt": chi_txt,
    "synthetic_parstat.txt": parstat_txt,
    "synthetic_powersuite.txt": powersuite_txt,
    "synthetic_eclab_v11_61.mpt": eclab_1161_mpt,
    "synthetic_preamble.txt": preamble_txt,
}


def write_all(folder: Path = HERE) -> dict:
    """Write every sample (the instrument files into ``folder``); return {file name: (spectra it
    should read as, precision)} for the instrument files."""
    if folder == HERE:
        brackets_csv()
        suffix_csv()
        area_csv()
        two_cycles_mpt()
        comma_mpt()
    return {name: make(folder) for name, make in INSTRUMENT_SAMPLES.items()}


def eclab_cycles_mpt(path, cycles: int, points_per_cycle: int = 60):
    """A larger EC-Lab-style file (not committed): ``cycles`` PEIS cycles of the two-arc circuit,
    for read-time measurements."""
    f = np.geomspace(1e6, 0.1, points_per_cycle)
    rows = []
    for cycle in range(1, cycles + 1):
        z = rc_series(f, 10.0, (100.0 * (1 + 0.01 * cycle), 1e-7), (300.0, 1e-4))
        rows += eclab_rows(f, z, cycle, 1000.0 * cycle)
    header = ["Potentio Electrochemical Impedance Spectroscopy", "",
              f"Comments : SYNTHETIC spectra, not measured: {cycles} cycles of R0-p(R1,C1)-p(R2,C2)", ""]
    write_mpt(path, header, rows)


if __name__ == "__main__":
    write_all()
