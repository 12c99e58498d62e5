"""Write the SYNTHETIC sample spectra of this folder (run once; the files are committed).

Every file comes from a known circuit of resistors and capacitors, not from a measurement, and
says so in its comments together with the circuit parameters.  Z'' < 0 on the arcs.

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


if __name__ == "__main__":
    brackets_csv()
    suffix_csv()
    area_csv()
    two_cycles_mpt()
    comma_mpt()
