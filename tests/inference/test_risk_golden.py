"""The risk forms and the likelihood as version 1 computes them (inference/risk/forms.py,
``FORMS_VERSION``).  A posterior stores the version it was calibrated with, and RiskModel.load
refuses another; these values are what keeps the version honest: a change of what a form or
the likelihood returns fails here, and is then a new FORMS_VERSION and a recalibration
(``nassb risk-calibrate --out priors/data/risk-posterior.nc``), not an edit of these numbers
alone.  Six draws of the shipped posterior, two designs (one at low pressure after formation
cycles, where the short circuit and the contact resistance move; one at high pressure, where the
separator may crack) and the paper's observations' log-likelihood per draw."""

from __future__ import annotations

import numpy as np
import pytest
from nassb.inference.risk import RiskModel
from nassb.inference.risk.forms import FORMS_VERSION
from nassb.inference.risk.likelihood import build_batch, log_likelihood
from nassb.priors.risk import load_nuisances, load_risk_observations

BASE = {"separator_thickness": 110.0, "area": 0.503, "swelling": 8.86, "capacity": 1.6, "cathode_thickness": 120.0,
        "porosity": 0.45, "r_separator": 5.2, "r_interface": 1.4, "reservoir_thickness": 25.0}
DESIGNS = {"low pressure, formation": {"pressure": 0.02, "current": 0.15, "cycles": 40.0, "formation_cycles": 3.0,
                                       "formation_current": 0.1},
           "high pressure": {"pressure": 0.6, "current": 0.3, "cycles": 100.0}}

GOLDEN = {"high pressure": {"P_fracture": [0.04111977151,
                                  0.808487418188,
                                  0.0416001673028,
                                  0.0263820225403,
                                  0.999998293937,
                                  0.0832675281078],
                   "P_short": [0.612052105972,
                               0.64781961592,
                               0.21259328579,
                               0.933002489471,
                               0.872603087382,
                               0.535167672343],
                   "R_cathode": [87.9080109002,
                                 78.7410607658,
                                 141.833788887,
                                 103.268101848,
                                 53.1999623227,
                                 14.9633249724],
                   "R_cell": [159.601821691,
                              90.7183318261,
                              99.8799947233,
                              88.8822367814,
                              95.6631372568,
                              90.4833971917],
                   "R_contact": [29.2838506458,
                                 11.1946657737,
                                 8.20988490767,
                                 19.7136567599,
                                 50.5660777175,
                                 72.5225881103],
                   "R_formation": [35.8099601454,
                                   -5.81739471347,
                                   -56.7636790718,
                                   -40.6995218262,
                                   -14.7029027835,
                                   -3.60251589103],
                   "ohmic_drop": [0.0478805465074,
                                  0.0272154995478,
                                  0.029963998417,
                                  0.0266646710344,
                                  0.028698941177,
                                  0.0271450191575],
                   "retention": [0.982842735238,
                                 0.949750406916,
                                 0.944512798687,
                                 0.945760260731,
                                 0.942088076383,
                                 0.946103881583]},
 "log_likelihood": [-20.669713557, -17.7305257621, -17.3277378946, -15.1374116588, -14.7271861992, -15.5749308919],
 "low pressure, formation": {"P_fracture": [1.87447105225e-17,
                                            3.13947949522e-10,
                                            4.61777886004e-12,
                                            3.60861758637e-12,
                                            9.20325749386e-21,
                                            9.13907022022e-23],
                             "P_short": [0.0914875839433,
                                         0.0481637783959,
                                         0.0157552893142,
                                         0.358725002082,
                                         0.0563420727155,
                                         0.0172204036934],
                             "R_cathode": [87.9080109002,
                                           78.7410607658,
                                           141.833788887,
                                           103.268101848,
                                           53.1999623227,
                                           14.9633249724],
                             "R_cell": [620.234793493,
                                        231.982971559,
                                        928.29702229,
                                        399.051858832,
                                        302.28226201,
                                        540.044328645],
                             "R_contact": [119.65473736,
                                           57.5184045583,
                                           324.896177742,
                                           183.863313829,
                                           152.214174448,
                                           480.506213868],
                             "R_formation": [406.072045233,
                                             89.1235062349,
                                             454.967055661,
                                             105.320443156,
                                             90.2681252395,
                                             37.9747898046],
                             "ohmic_drop": [0.093035219024,
                                            0.0347974457339,
                                            0.139244553343,
                                            0.0598577788249,
                                            0.0453423393015,
                                            0.0810066492967],
                             "retention": [0.993205610295,
                                           0.979894895629,
                                           0.977762539532,
                                           0.978271060157,
                                           0.976772949868,
                                           0.978411063775]}}


@pytest.fixture(scope="module")
def six():
    full = RiskModel.load()
    pick = np.arange(0, full.size, full.size // 6)[:6]
    return RiskModel({k: v[pick] for k, v in full.draws.items()})


def test_the_forms_are_version_1():
    assert FORMS_VERSION == "1", "a new version: regenerate GOLDEN from the new forms after recalibrating"


@pytest.mark.parametrize("design", list(DESIGNS))
def test_the_forms_compute_what_version_1_computed(six, design):
    score = six.score(**BASE, **DESIGNS[design]).as_dict()
    for name, expected in GOLDEN[design].items():
        np.testing.assert_allclose(np.broadcast_to(score[name], (6,)), expected, rtol=1e-9, atol=1e-300,
                                   err_msg=f"{name} at {design}: the forms changed; bump FORMS_VERSION")


def test_the_likelihood_computes_what_version_1_computed(six):
    ll = log_likelihood(six.draws, build_batch(load_risk_observations(), load_nuisances()))
    np.testing.assert_allclose(ll, GOLDEN["log_likelihood"], rtol=1e-9,
                               err_msg="the likelihood changed; bump FORMS_VERSION")
