"""Names of quantum-chemistry programs and methods, where cclib leaves them unnamed.

cclib names the functional for Gaussian, Q-Chem, NWChem, Psi4 and Dalton
(``metadata["functional"]``) and the wavefunction methods of every program
(``metadata["methods"]``: ``HF``, ``MP2``, ``CCSD(T)``, ...).  It says only
``DFT`` (or nothing) for four programs whose outputs name the functional plainly;
this module reads the line that names it:

ORCA
    The functional keyword of the simple input line (``! rks b3lyp sto-3g``),
    which cclib keeps as ``metadata["keywords"]``.
ADF
    The ``DENSITY FUNCTIONAL POTENTIAL`` block (``LDA:`` and ``Gradient Corrections:``).
GAMESS and Firefly
    The ``$CONTRL`` echo: ``DFTTYP`` when it names a functional, else ``SCFTYP``.
Molpro
    ``Density functional group B3LYP=...`` (cclib calls Molpro's Kohn-Sham runs ``HF``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

#: cclib's parser names -> the programs' names as their authors spell them.
PROGRAM_NAMES = {
    "ADF": "ADF",
    "CFOUR": "CFOUR",
    "DALTON": "Dalton",
    "FChk": "Gaussian",
    "GAMESS": "GAMESS",
    "GAMESSDAT": "GAMESS",
    "GAMESSUK": "GAMESS-UK",
    "Gaussian": "Gaussian",
    "Jaguar": "Jaguar",
    "Molcas": "Molcas",
    "Molpro": "Molpro",
    "MOPAC": "MOPAC",
    "NBO": "NBO",
    "NWChem": "NWChem",
    "ORCA": "ORCA",
    "Psi3": "PSI3",
    "Psi4": "Psi4",
    "QChem": "Q-Chem",
    "Serenity": "Serenity",
    "Turbomole": "TURBOMOLE",
    "XTB": "xtb",
}
#: Methods that only say which SCF ran: the functional, when one is named, says more.
SCF_METHODS = frozenset({"HF", "RHF", "UHF", "ROHF", "DFT", "KS", "RKS", "UKS", "ROKS"})
#: Functionals ORCA accepts as simple-input keywords (lower case -> usual spelling).
ORCA_FUNCTIONALS = {
    name.lower(): name
    for name in (
        "HFS", "LDA", "VWN", "VWN5", "VWN3", "PWLDA", "BP86", "BP", "BLYP", "OLYP", "GLYP", "XLYP",
        "PW91", "mPWPW", "mPWLYP", "PBE", "RPBE", "revPBE", "PBEsol", "PWP", "B97-D", "B97-D3",
        "TPSS", "M06L", "M06-L", "SCAN", "r2SCAN", "B3LYP", "B3LYP/G", "B3PW91", "O3LYP", "X3LYP",
        "B1LYP", "B3P86", "PBE0", "PBEh-3c", "r2SCAN-3c", "B97-3c", "HF-3c", "TPSSh", "TPSS0",
        "M06", "M062X", "M06-2X", "wB97", "wB97X", "wB97X-D3", "wB97X-V", "wB97M-V", "CAM-B3LYP",
        "LC-BLYP", "LC-PBE", "B2PLYP", "mPW2PLYP", "DSD-BLYP", "DSD-PBEP86", "PWPB95", "BHandHLYP",
    )
}  # fmt: skip
#: ADF's ``Gradient Corrections`` (exchange correlation) -> the functional's name.
ADF_GRADIENT_CORRECTIONS = {
    "Becke88 LYP": "BLYP",
    "Becke88 Perdew86": "BP86",
    "PBEx PBEc": "PBE",
    "PW91x PW91c": "PW91",
    "revPBEx PBEc": "revPBE",
    "RPBEx PBEc": "RPBE",
    "OPTX LYP": "OLYP",
    "OPTX PBEc": "OPBE",
}
_ADF_GRADIENT = re.compile(r"^\s*Gradient Corrections:\s+(\S.*?)(?:\s{2,}|$)", re.MULTILINE)
_ADF_LDA = re.compile(r"^\s*LDA:\s+(\S.*?)(?:\s{2,}|$)", re.MULTILINE)
_MOLPRO_FUNCTIONAL = re.compile(r"^\s*Density functional group\s+([^\s=]+)", re.MULTILINE)
_GAMESS_SCFTYP = re.compile(r"^\s*SCFTYP=(\S+)", re.MULTILINE)
_GAMESS_DFTTYP = re.compile(r"^\s*DFTTYP=(\S+)", re.MULTILINE)


def program_name(package: str, head: str) -> str:
    """The program's name as its authors spell it, from cclib's parser name.

    Parameters
    ----------
    package
        ``metadata["package"]`` (cclib's parser name: ``QChem``, ``GAMESS``, ...).
    head
        The start of the output: Firefly's outputs, read by cclib's GAMESS parser,
        say ``Firefly`` there.
    """
    if package == "GAMESS" and "Firefly" in head:
        return "Firefly"
    return PROGRAM_NAMES.get(package, package)


def method_name(package: str, metadata: Mapping[str, Any], head: str) -> str | None:
    """The method asked for: the correlated method, else the functional, else the SCF kind.

    Parameters
    ----------
    package
        cclib's parser name.
    metadata
        cclib's ``metadata`` (``methods``, ``functional``, ``keywords``).
    head
        The start of the output (the first 256 KB), read for the programs listed in
        the module docstring.

    Returns
    -------
    str or None
        ``MP2``, ``CCSD(T)``, ``B3LYP``, ``HF``, ... or ``DFT`` when only that is known.
    """
    methods: Sequence[str] = [str(m) for m in metadata.get("methods") or []]
    last = methods[-1] if methods else None
    if last is not None and last.upper() not in SCF_METHODS:
        return last
    functional = metadata.get("functional")
    if functional:
        return str(functional)
    named = _program_method(package, metadata, head)
    if named is not None:
        return named
    return _scf_name(last) if last is not None else None


def _scf_name(method: str) -> str:
    return "HF" if method.upper() in {"RHF", "UHF", "ROHF"} else method


def _program_method(package: str, metadata: Mapping[str, Any], head: str) -> str | None:
    if package == "ORCA":
        for keyword in metadata.get("keywords") or []:
            name = ORCA_FUNCTIONALS.get(str(keyword).lower())
            if name is not None:
                return name
        return None
    if package == "ADF":
        gradient = _ADF_GRADIENT.search(head)
        if gradient is not None:
            text = " ".join(gradient.group(1).split())
            return ADF_GRADIENT_CORRECTIONS.get(text, text)
        return "LDA" if _ADF_LDA.search(head) else None
    if package == "Molpro":
        functional = _MOLPRO_FUNCTIONAL.search(head)
        return functional.group(1) if functional is not None else None
    if package == "GAMESS":
        dfttyp = _GAMESS_DFTTYP.search(head)
        if dfttyp is not None and dfttyp.group(1).upper() != "NONE":
            return dfttyp.group(1)
        scftyp = _GAMESS_SCFTYP.search(head)
        return _scf_name(scftyp.group(1)) if scftyp is not None else None
    return None
