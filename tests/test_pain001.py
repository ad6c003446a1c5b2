"""SEPA pain.001 payment files (domain.md C1, C3, scenario S18).

The kredietbank pays three fixed costs of one household on 1 May 2025 from its derdengeldenrekening:
huur €650.00 to the woningcorporatie (free text), zorgverzekering €150.00 with the Betaalvereniging's
example betalingskenmerk 5000056789012345, and energie €180.00 with an RF reference: €980.00 in all.
Each file is checked as the bank would read it, with XPath on the XML.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from budget_ledger.adapters.bank.pain001 import (
    PAIN_VERSIONS,
    CreditTransfer,
    Pain001Error,
    Party,
    PaymentBatch,
    PaymentInfo,
    PostalAddress,
    render_pain001,
    validate_pain001,
)
from budget_ledger.ledger.money import Money

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIRST_OF_MAY = date(2025, 5, 1)

KREDIETBANK = Party(
    name="Kredietbank West-Friesland derdengelden",
    iban="NL38BNGH0285012345",
    bic="BNGHNL2G",
    address=PostalAddress(town="Hoorn", street="Nieuwe Steen", building_number="1", postcode="1625 HV"),
)
WONINGCORPORATIE = Party(
    name="Woonstichting De Kloosterhof",
    iban="NL91ABNA0417164300",
    bic="ABNANL2A",
    address=PostalAddress(town="Enkhuizen", street="Dijk", building_number="44", postcode="1601 GK"),
)
ZORGVERZEKERAAR = Party(
    name="Zorgverzekeraar Zuidwest",
    iban="NL44RABO0123456789",
    address=PostalAddress(town="Utrecht"),
)
ENERGIEBEDRIJF = Party(
    name="Energie Coöperatie Hoorn & Omstreken",
    iban="NL20INGB0001234567",
    address=PostalAddress(town="Hoorn", street="Maelsonstraat", building_number="3a", postcode="1624 NP"),
)

HUUR = CreditTransfer("HH1-HUUR-2025-05", Money.of("650.00"), WONINGCORPORATIE, "vrij", "Huur mei Kloosterstraat 12")
ZORG = CreditTransfer("HH1-ZORG-2025-05", Money.of("150.00"), ZORGVERZEKERAAR, "betalingskenmerk", "5000056789012345")
ENERGIE = CreditTransfer("HH1-ENERGIE-2025-05", Money.of("180.00"), ENERGIEBEDRIJF, "rf", "RF18539007547034")


def may_batch(*transfers: CreditTransfer, debtor: Party = KREDIETBANK) -> PaymentBatch:
    return PaymentBatch(
        message_id="RUN-2025-05-01-1",
        created_at=datetime(2025, 4, 29, 9, 30, tzinfo=AMSTERDAM),
        initiating_party="Kredietbank West-Friesland",
        debtor=debtor,
        payments=(PaymentInfo("RUN-2025-05-01-1-A", FIRST_OF_MAY, transfers or (HUUR, ZORG, ENERGIE)),),
    )


S18 = may_batch()


class Pain:
    """A produced file, parsed, with XPath in the version's namespace bound to the prefix `p`."""

    def __init__(self, xml: bytes, version: str) -> None:
        self.xml = xml
        self.root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        self.ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{version}"}

    def all(self, path: str) -> list:
        return self.root.xpath(path, namespaces=self.ns)

    def text(self, path: str) -> str:
        found = self.all(path)
        assert len(found) == 1, f"{path}: expected one, found {len(found)}"
        return found[0].text if isinstance(found[0], etree._Element) else str(found[0])

    def transfer(self, end_to_end_id: str) -> str:
        return f"//p:CdtTrfTxInf[p:PmtId/p:EndToEndId='{end_to_end_id}']"


def render(batch: PaymentBatch, version: str) -> Pain:
    return Pain(render_pain001(batch, version), version)


# ---------------------------------------------------------------------------------------------------------
# S18: the May batch, in both versions
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_the_may_batch_is_a_valid_file_of_three_payments_worth_980(version):
    pain = render(S18, version)

    validate_pain001(pain.xml, version)  # what the bank's upload checks first
    assert pain.xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert pain.text("/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs") == "3"
    assert pain.text("/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum") == "980.00"
    assert pain.text("//p:PmtInf/p:NbOfTxs") == "3"
    assert pain.text("//p:PmtInf/p:CtrlSum") == "980.00"
    assert pain.text("//p:GrpHdr/p:MsgId") == "RUN-2025-05-01-1"
    assert pain.text("//p:GrpHdr/p:CreDtTm") == "2025-04-29T09:30:00"  # Amsterdam time, as the NL guidelines show it
    assert pain.text("//p:GrpHdr/p:InitgPty/p:Nm") == "Kredietbank West-Friesland"


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_every_payment_is_a_sepa_transfer_in_euro_with_its_own_end_to_end_id(version):
    pain = render(S18, version)

    assert pain.text("//p:PmtInf/p:PmtMtd") == "TRF"
    assert pain.text("//p:PmtInf/p:PmtTpInf/p:SvcLvl/p:Cd") == "SEPA"
    assert pain.text("//p:PmtInf/p:ChrgBr") == "SLEV"
    assert [e.text for e in pain.all("//p:CdtTrfTxInf/p:PmtId/p:EndToEndId")] == [
        "HH1-HUUR-2025-05", "HH1-ZORG-2025-05", "HH1-ENERGIE-2025-05",
    ]
    assert [(a.text, a.get("Ccy")) for a in pain.all("//p:CdtTrfTxInf/p:Amt/p:InstdAmt")] == [
        ("650.00", "EUR"), ("150.00", "EUR"), ("180.00", "EUR"),
    ]
    assert pain.text(pain.transfer("HH1-HUUR-2025-05") + "/p:CdtrAcct/p:Id/p:IBAN") == "NL91ABNA0417164300"
    assert pain.text("//p:PmtInf/p:DbtrAcct/p:Id/p:IBAN") == "NL38BNGH0285012345"


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_the_betalingskenmerk_is_structured_with_issuer_cur(version):
    pain = render(S18, version)
    reference = pain.transfer("HH1-ZORG-2025-05") + "/p:RmtInf/p:Strd/p:CdtrRefInf"

    assert pain.text(reference + "/p:Tp/p:CdOrPrtry/p:Cd") == "SCOR"
    assert pain.text(reference + "/p:Tp/p:Issr") == "CUR"
    assert pain.text(reference + "/p:Ref") == "5000056789012345"
    assert pain.all(pain.transfer("HH1-ZORG-2025-05") + "/p:RmtInf/p:Ustrd") == []


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_the_rf_reference_is_scor_without_an_issuer(version):
    pain = render(S18, version)
    reference = pain.transfer("HH1-ENERGIE-2025-05") + "/p:RmtInf/p:Strd/p:CdtrRefInf"

    assert pain.text(reference + "/p:Tp/p:CdOrPrtry/p:Cd") == "SCOR"
    assert pain.all(reference + "/p:Tp/p:Issr") == []
    assert pain.text(reference + "/p:Ref") == "RF18539007547034"


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_the_rent_goes_with_its_free_text(version):
    pain = render(S18, version)

    assert pain.text(pain.transfer("HH1-HUUR-2025-05") + "/p:RmtInf/p:Ustrd") == "Huur mei Kloosterstraat 12"
    assert pain.all(pain.transfer("HH1-HUUR-2025-05") + "/p:RmtInf/p:Strd") == []


def test_version_03_has_the_execution_date_as_a_date_and_bic_elements():
    pain = render(S18, "pain.001.001.03")

    assert pain.text("//p:PmtInf/p:ReqdExctnDt") == "2025-05-01"
    assert pain.text("//p:PmtInf/p:DbtrAgt/p:FinInstnId/p:BIC") == "BNGHNL2G"
    assert pain.text(pain.transfer("HH1-HUUR-2025-05") + "/p:CdtrAgt/p:FinInstnId/p:BIC") == "ABNANL2A"


def test_version_09_has_the_execution_date_inside_dt_and_bicfi_elements():
    pain = render(S18, "pain.001.001.09")

    assert pain.text("//p:PmtInf/p:ReqdExctnDt/p:Dt") == "2025-05-01"
    assert pain.text("//p:PmtInf/p:DbtrAgt/p:FinInstnId/p:BICFI") == "BNGHNL2G"
    assert pain.text(pain.transfer("HH1-HUUR-2025-05") + "/p:CdtrAgt/p:FinInstnId/p:BICFI") == "ABNANL2A"


def test_version_09_has_structured_creditor_addresses_with_town_and_country():
    pain = render(S18, "pain.001.001.09")

    for creditor in pain.all("//p:CdtTrfTxInf/p:Cdtr"):
        assert creditor.xpath("p:PstlAdr/p:TwnNm/text()", namespaces=pain.ns) != []
        assert creditor.xpath("p:PstlAdr/p:Ctry/text()", namespaces=pain.ns) == ["NL"]
        assert creditor.xpath("p:PstlAdr/p:AdrLine", namespaces=pain.ns) == []
    address = pain.transfer("HH1-HUUR-2025-05") + "/p:Cdtr/p:PstlAdr"
    assert pain.text(address + "/p:StrtNm") == "Dijk"
    assert pain.text(address + "/p:BldgNb") == "44"
    assert pain.text(address + "/p:PstCd") == "1601 GK"
    assert pain.text(address + "/p:TwnNm") == "Enkhuizen"
    assert pain.text(pain.transfer("HH1-ZORG-2025-05") + "/p:Cdtr/p:PstlAdr/p:TwnNm") == "Utrecht"


def test_version_03_carries_the_same_structured_address_and_no_address_lines():
    # Dutch banks take no unstructured addresses from October 2026, in .03 files too (Betaalvereniging).
    pain = render(S18, "pain.001.001.03")
    address = pain.transfer("HH1-HUUR-2025-05") + "/p:Cdtr/p:PstlAdr"

    assert [(child.tag.split("}")[1], child.text) for child in pain.all(address + "/*")] == [
        ("StrtNm", "Dijk"), ("BldgNb", "44"), ("PstCd", "1601 GK"), ("TwnNm", "Enkhuizen"), ("Ctry", "NL")]
    assert pain.all("//p:AdrLine") == []


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_without_a_bic_the_debtor_agent_is_notprovided_and_the_creditor_agent_left_out(version):
    pain = render(may_batch(debtor=dataclasses.replace(KREDIETBANK, bic=None)), version)

    validate_pain001(pain.xml, version)
    assert pain.text("//p:PmtInf/p:DbtrAgt/p:FinInstnId/p:Othr/p:Id") == "NOTPROVIDED"
    assert pain.all(pain.transfer("HH1-ZORG-2025-05") + "/p:CdtrAgt") == []


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_names_are_reduced_to_the_sepa_character_set_and_cut_at_70(version):
    long_name = "Stichting Huurdersbelang " + "Westfriese Woningen " * 5
    landlord = dataclasses.replace(WONINGCORPORATIE, name=long_name)
    pain = render(may_batch(dataclasses.replace(HUUR, creditor=landlord), ENERGIE), version)

    assert pain.text(pain.transfer("HH1-ENERGIE-2025-05") + "/p:Cdtr/p:Nm") == "Energie Cooperatie Hoorn + Omstreken"
    name = pain.text(pain.transfer("HH1-HUUR-2025-05") + "/p:Cdtr/p:Nm")
    assert len(name) <= 70 and long_name.startswith(name)


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_payment_information_blocks_carry_their_own_totals(version):
    batch = dataclasses.replace(
        S18,
        payments=(
            PaymentInfo("RUN-2025-05-01-1-A", FIRST_OF_MAY, (HUUR,)),
            PaymentInfo("RUN-2025-05-01-1-B", date(2025, 5, 2), (ZORG, ENERGIE)),
        ),
    )
    pain = render(batch, version)

    assert pain.text("//p:GrpHdr/p:NbOfTxs") == "3"
    assert pain.text("//p:GrpHdr/p:CtrlSum") == "980.00"
    assert [(p.findtext("p:NbOfTxs", namespaces=pain.ns), p.findtext("p:CtrlSum", namespaces=pain.ns))
            for p in pain.all("//p:PmtInf")] == [("1", "650.00"), ("2", "330.00")]


# ---------------------------------------------------------------------------------------------------------
# A file that was edited after it was made does not pass
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_an_amount_with_three_decimals_fails_validation_with_its_line(version):
    xml = render_pain001(S18, version).replace(b">150.00</InstdAmt>", b">150.005</InstdAmt>")

    with pytest.raises(Pain001Error) as refused:
        validate_pain001(xml, version)

    message = str(refused.value)
    line = xml.decode().splitlines().index(next(s for s in xml.decode().splitlines() if "150.005" in s)) + 1
    assert f"line {line}: InstdAmt '150.005'" in message
    assert "exactly two decimals" in message
    assert "CtrlSum is 980.00, but the amounts add up to 980.005" in message


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_a_negative_amount_fails_the_xsd_with_the_schema_message(version):
    xml = render_pain001(S18, version).replace(b">150.00</InstdAmt>", b">-150.00</InstdAmt>")

    with pytest.raises(Pain001Error, match=rf"does not validate against the {version} schema: line \d+: .*InstdAmt.*minInclusive"):
        validate_pain001(xml, version)


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_a_transfer_without_end_to_end_id_fails_the_xsd(version):
    xml = render_pain001(S18, version).replace(b"<EndToEndId>HH1-ZORG-2025-05</EndToEndId>", b"")

    with pytest.raises(Pain001Error) as refused:
        validate_pain001(xml, version)

    assert "EndToEndId" in str(refused.value)
    assert refused.value.problems and refused.value.problems[0].startswith("line ")


def test_a_file_of_one_version_is_not_valid_as_the_other():
    xml = render_pain001(S18, "pain.001.001.03")

    with pytest.raises(Pain001Error, match="not a pain.001.001.09 document"):
        validate_pain001(xml, "pain.001.001.09")


def test_broken_xml_is_refused_with_its_line():
    with pytest.raises(Pain001Error, match="not well-formed XML: line 2"):
        validate_pain001(b"<?xml version='1.0'?>\n<Document><oops></Document>", "pain.001.001.03")


def test_entities_in_a_file_are_not_expanded():
    xml = (
        b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">&x;</Document>'
    )
    with pytest.raises(Pain001Error, match="DOCTYPE") as refused:
        validate_pain001(xml, "pain.001.001.03")
    assert "root:" not in str(refused.value)


# ---------------------------------------------------------------------------------------------------------
# Refusals: no file is written for a batch the bank would refuse or pay wrongly
# ---------------------------------------------------------------------------------------------------------


def test_an_empty_batch_is_refused():
    with pytest.raises(Pain001Error, match="the batch is empty"):
        render_pain001(dataclasses.replace(S18, payments=()), "pain.001.001.09")


def test_a_payment_information_block_without_transfers_is_refused():
    empty = PaymentInfo("RUN-2025-05-01-1-A", FIRST_OF_MAY, ())
    with pytest.raises(Pain001Error, match="RUN-2025-05-01-1-A is empty"):
        render_pain001(dataclasses.replace(S18, payments=(empty,)), "pain.001.001.09")


@pytest.mark.parametrize("amount", ["0.00", "-650.00"])
def test_a_payment_of_zero_or_less_is_refused(amount):
    with pytest.raises(Pain001Error, match=f"HH1-HUUR-2025-05: the amount {amount} is not positive"):
        render_pain001(may_batch(dataclasses.replace(HUUR, amount=Money.of(amount))), "pain.001.001.03")


@pytest.mark.parametrize("when", [datetime(2025, 5, 1, 9, 0, tzinfo=AMSTERDAM), "2025-05-01", None])
def test_an_execution_date_that_is_not_a_date_is_refused(when):
    payment = PaymentInfo("RUN-2025-05-01-1-A", when, (HUUR,))  # type: ignore[arg-type]
    with pytest.raises(Pain001Error, match="the execution date .* is not a date"):
        render_pain001(dataclasses.replace(S18, payments=(payment,)), "pain.001.001.09")


def test_the_same_end_to_end_id_twice_is_refused():
    twice = dataclasses.replace(ZORG, end_to_end_id=HUUR.end_to_end_id)
    with pytest.raises(Pain001Error, match="EndToEndId 'HH1-HUUR-2025-05' occurs twice"):
        render_pain001(may_batch(HUUR, twice), "pain.001.001.09")


@pytest.mark.parametrize("version", ["pain.001.001.02", "pain.001.001.11", "pain.008.001.02", ""])
def test_an_unknown_version_is_refused(version):
    with pytest.raises(Pain001Error, match="unknown pain.001 version"):
        render_pain001(S18, version)
    with pytest.raises(Pain001Error, match="unknown pain.001 version"):
        validate_pain001(b"<Document/>", version)


def test_a_betalingskenmerk_with_a_wrong_check_digit_is_refused_before_payment():
    wrong = dataclasses.replace(ZORG, reference="6000056789012345")
    with pytest.raises(Pain001Error, match="HH1-ZORG-2025-05 betalingskenmerk '6000056789012345': the check digit"):
        render_pain001(may_batch(wrong), "pain.001.001.09")


def test_a_free_text_longer_than_140_characters_is_refused_rather_than_cut():
    long_text = dataclasses.replace(HUUR, reference="Huur mei Kloosterstraat 12 " * 6)
    with pytest.raises(Pain001Error, match="at most 140"):
        render_pain001(may_batch(long_text), "pain.001.001.03")


@pytest.mark.parametrize("bad_id", ["HH1 HUUR", "/HH1", "HH1//HUUR", "X" * 36, ""])
def test_an_end_to_end_id_outside_the_sepa_rules_is_refused_not_rewritten(bad_id):
    with pytest.raises(Pain001Error, match="EndToEndId"):
        render_pain001(may_batch(dataclasses.replace(HUUR, end_to_end_id=bad_id)), "pain.001.001.09")


def test_a_creditor_iban_that_fails_its_check_is_refused():
    flipped = dataclasses.replace(WONINGCORPORATIE, iban="NL91ABNA0417164301")
    with pytest.raises(Pain001Error, match="creditor IBAN 'NL91ABNA0417164301': the check digits do not match"):
        render_pain001(may_batch(dataclasses.replace(HUUR, creditor=flipped)), "pain.001.001.03")


def test_the_schemas_are_package_data():
    schemas = resources.files("budget_ledger.adapters.bank") / "schemas"
    for version in PAIN_VERSIONS:
        assert (schemas / f"{version}.xsd").read_bytes().startswith(b"<?xml")


# ---------------------------------------------------------------------------------------------------------
# From a payment run's instructions: the payee's address as the run stored it
# ---------------------------------------------------------------------------------------------------------


def run_instruction(end_to_end_id: str, address):
    from budget_ledger.payment_runs import InstructionStatus, PayeeKind, PaymentInstruction

    return PaymentInstruction(
        run_id=7, household_id=1, obligation=f"crediteur-{end_to_end_id}", due_date=FIRST_OF_MAY,
        execution_date=FIRST_OF_MAY, entry_key=f"plan:1:{end_to_end_id}", entry_id=1, rule="vaste_lasten",
        category="huur", amount=Money.of("650.00"), payee_kind=PayeeKind.CREDITOR, creditor_id=1,
        payee_name="Woonstichting De Kloosterhof", iban="NL91ABNA0417164300", bic=None, reference_kind="vrij",
        reference="Huur mei", end_to_end_id=end_to_end_id, payee_address=address, id=1,
        status=InstructionStatus.APPROVED, created_at=datetime(2025, 4, 29, 9, 30, tzinfo=AMSTERDAM))


def run_file(version: str, *instructions) -> Pain:
    from budget_ledger.adapters.bank.payment_file import batch_for

    batch = batch_for(7, list(instructions), organisation="Kredietbank West-Friesland",
                      debtor_iban="NL38BNGH0285012345", created_at=datetime(2025, 4, 29, 9, 30, tzinfo=AMSTERDAM))
    return render(batch, version)


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_an_instruction_with_an_address_gets_exactly_that_structured_postal_address(version):
    from budget_ledger.addresses import PostalAddress as StoredAddress

    stored = StoredAddress(street_name="Kloosterstraat", building_number="12-2", postcode="1601 GK",
                           town="Enkhuizen", country="NL")
    pain = run_file(version, run_instruction("H1-250501-HUUR", stored))

    validate_pain001(pain.xml, version)
    address = pain.transfer("H1-250501-HUUR") + "/p:Cdtr/p:PstlAdr"
    assert [(child.tag.split("}")[1], child.text) for child in pain.all(address + "/*")] == [
        ("StrtNm", "Kloosterstraat"), ("BldgNb", "12-2"), ("PstCd", "1601 GK"), ("TwnNm", "Enkhuizen"), ("Ctry", "NL")]
    assert pain.all("//p:AdrLine") == []


@pytest.mark.parametrize("version", PAIN_VERSIONS)
def test_an_instruction_with_only_town_and_country_or_none_still_validates(version):
    from budget_ledger.addresses import PostalAddress as StoredAddress

    pain = run_file(version, run_instruction("H1-250501-ZORG", StoredAddress(town="Utrecht", country="NL")),
                    run_instruction("H1-250501-HUUR", None))

    validate_pain001(pain.xml, version)
    assert [(c.tag.split("}")[1], c.text) for c in pain.all(pain.transfer("H1-250501-ZORG") + "/p:Cdtr/p:PstlAdr/*")] == [
        ("TwnNm", "Utrecht"), ("Ctry", "NL")]
    assert pain.all(pain.transfer("H1-250501-HUUR") + "/p:Cdtr/p:PstlAdr") == []
    assert pain.text(pain.transfer("H1-250501-HUUR") + "/p:Cdtr/p:Nm") == "Woonstichting De Kloosterhof"
