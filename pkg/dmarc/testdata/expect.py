#!/usr/bin/env python3
"""The expected reading of the sample reports, independent of blcheck's Go code.

Python's standard library only (xml.etree.ElementTree on expat, gzip/zlib,
zipfile, email): it reads every file under samples/ and writes expected.json,
per file and per sample directory: the reports counted, the messages, and per
source address its messages, passed (policy_evaluated dkim or spf "pass", any
case), reports, reporters and header-from domains; or that the file is unread
(could not be read fully) or not a report. Regenerate with

    python3 pkg/dmarc/testdata/expect.py

The rules are the contract's (../../../../shared/spec/contract.md, "DMARC
aggregate reports"), written here without looking at the Go reader:
- a report is XML whose root element's local name is "feedback"; names are
  read by local name, without regard to case; values are trimmed;
- text is decoded as its byte order mark says (UTF-8, UTF-16), else as its
  XML declaration names (labels as the WHATWG Encoding standard reads them:
  ISO-8859-1 is windows-1252), else as UTF-8; a declaration of UTF-16 over
  text without its zero bytes, or of an unknown encoding, is read as UTF-8;
  text that is not valid UTF-8 is read with U+FFFD for the bad bytes;
- a report is also <feedback> as the first element inside another root, even
  if that root is never closed (ikea.com's <xs:schema> wrapper);
- the same report (org_name compared without case, report_id, the policy_published
  domain and the date range) is read once: reporters reuse a report_id for a
  domain's reports of other days, and for other domains' reports;
- a source's messages that did not pass and whose record gives a reason of
  forwarded, trusted_forwarder or mailing_list are its "forwarded" ones;
- a record whose source_ip is not an address is not counted (if it has messages,
  the file is unread: not read fully);
- gzip: its first member only (a line break after it is not a second member);
- zip: every member; e-mail messages: every MIME part, decoded.
"""
import codecs
import email
import email.policy
import gzip
import hashlib
import io
import ipaddress
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "samples")
DIGEST_OVER = 100  # sources; more are recorded as a count and a SHA-256


class NotReport(Exception):
    pass


class Unread(Exception):
    pass


def local(tag):
    return tag.rsplit("}", 1)[-1].lower()


def child(el, name):
    for c in el if el is not None else ():
        if local(c.tag) == name:
            return c
    return None


def text(el, *path):
    for p in path:
        if el is None:
            return ""
        el = child(el, p)
    return (el.text or "").strip() if el is not None else ""


# policy_evaluated reasons that say the receiver saw the message forwarded
FORWARDING = ("forwarded", "trusted_forwarder", "mailing_list")

WHATWG = {"iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}


def decode(data):
    """The document's text, decoded as the module's docstring says."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:].decode("utf-8", "replace")
    if data[:2] == b"<\x00":
        return data.decode("utf-16-le", "replace")
    if data[:2] == b"\x00<":
        return data.decode("utf-16-be", "replace")
    m = re.match(rb"""\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", data)
    enc = m.group(1).decode().lower() if m else "utf-8"
    enc = WHATWG.get(enc, enc)
    try:
        if enc.replace("-", "").startswith("utf16"):
            enc = "utf-8"
        codecs.lookup(enc)
    except LookupError:
        enc = "utf-8"
    return data.decode(enc, "replace")


# a root element whose first element is a whole <feedback>
WRAPPED = re.compile(r"\s*<([\w:.-]+)[^>]*>\s*(<(?:[\w.-]+:)?feedback[\s>].*?</(?:[\w.-]+:)?feedback\s*>)", re.S)


def parse_xml(data):
    s = decode(data)
    if s.startswith("<?xml"):
        s = s[s.index("?>") + 2:]
    try:
        root = ET.fromstring(s)
    except ET.ParseError as e:
        m = WRAPPED.match(s)
        if m and local(m.group(1)) != "feedback":
            return parse_xml(m.group(2).encode())
        if "feedback" not in s[:2000]:
            raise NotReport(str(e))
        raise Unread("XML: %s" % e)
    if local(root.tag) != "feedback":
        first = next(iter(root), None)
        if first is None or local(first.tag) != "feedback":
            raise NotReport("root is %s" % root.tag)
        root = first
    rep = {"org": text(root, "report_metadata", "org_name"),
           "id": text(root, "report_metadata", "report_id"),
           "domain": text(root, "policy_published", "domain").lower().rstrip("."),
           "begin": epoch(text(root, "report_metadata", "date_range", "begin")),
           "end": epoch(text(root, "report_metadata", "date_range", "end")),
           "records": [], "bad": 0}
    for rec in root:
        if local(rec.tag) != "record":
            continue
        ip = text(rec, "row", "source_ip")
        count = int(text(rec, "row", "count") or "0")
        pe = child(child(rec, "row"), "policy_evaluated")
        passed = any(text(pe, k).lower() == "pass" for k in ("dkim", "spf"))
        forwarded = any(local(r.tag) == "reason" and text(r, "type").lower() in FORWARDING
                        for r in (pe if pe is not None else ()))
        hf = text(rec, "identifiers", "header_from").lower().rstrip(".")
        try:
            a = ipaddress.ip_address(ip)
            if a.version == 6 and a.ipv4_mapped:
                a = a.ipv4_mapped
        except ValueError:
            if count > 0:
                rep["bad"] += count
            continue
        rep["records"].append((str(a), count, passed, forwarded, hf))
    return [rep]


def sniff_read(data):
    """All reports in data; raises NotReport or Unread."""
    if data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(31)
        try:
            out = d.decompress(data)
        except zlib.error as e:
            raise Unread("gzip: %s" % e)
        if not d.eof:
            raise Unread("gzip: truncated")
        return sniff_read(out)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
            reps = []
            for n in z.namelist():
                try:
                    reps += sniff_read(z.read(n))
                except NotReport:
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise Unread("zip: %s" % e)
        if not reps:
            raise NotReport("zip without report")
        return reps
    if len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        d = zlib.decompressobj()
        try:
            out = d.decompress(data)
        except zlib.error as e:
            raise Unread("zlib: %s" % e)
        if not d.eof:
            raise Unread("zlib: truncated")
        return sniff_read(out)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or re.match(rb"(\xff\xfe|\xfe\xff)?(\x00?[ \t\r\n]\x00?)*(<\x00|\x00<)", data):
        return parse_xml(data)
    if data.startswith(b"From "):
        reps = []
        for chunk in data.split(b"\nFrom ")[0:]:
            try:
                reps += read_message(chunk.split(b"\n", 1)[1])
            except NotReport:
                pass
        if not reps:
            raise NotReport("mbox without report")
        return reps
    return read_message(data)


def read_message(data):
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    if not msg.keys():
        raise NotReport("not a message")
    reps = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not payload:
            continue
        try:
            reps += sniff_read(payload)
        except NotReport:
            pass
    if not reps:
        raise NotReport("message without report")
    return reps


def epoch(v):
    """A date_range bound as a number of seconds, 0 when it is not one."""
    try:
        n = int(v)
    except ValueError:
        return 0
    return n if 0 < n <= 1 << 35 else 0


class Agg:
    def __init__(self):
        self.seen, self.sources, self.reports, self.unread = set(), {}, 0, False

    def add(self, rep):
        key = (rep["org"].strip().lower(), rep["id"], rep["domain"], rep["begin"], rep["end"])
        if rep["id"]:
            if key in self.seen:
                return
            self.seen.add(key)
        self.reports += 1
        org = rep["org"].strip() or "(no org_name)"
        counted = set()
        for ip, count, passed, forwarded, hf in rep["records"]:
            s = self.sources.setdefault(ip, {"messages": 0, "passed": 0, "forwarded": 0, "reports": 0,
                                             "reporters": set(), "header_from": set()})
            s["messages"] += count
            if passed:
                s["passed"] += count
            elif forwarded:
                s["forwarded"] += count
            if ip not in counted:
                counted.add(ip)
                s["reports"] += 1
            s["reporters"].add(org)
            if hf:
                s["header_from"].add(hf)

    def read_file(self, path):
        data = open(path, "rb").read()
        try:
            reps = sniff_read(data)
        except NotReport:
            return "not-report"
        except Unread:
            self.unread = True
            return "unread"
        for r in reps:
            self.add(r)
            if r["bad"]:
                self.unread = True
        return "read"

    def doc(self):
        d = {"reports": self.reports,
             "messages": sum(s["messages"] for s in self.sources.values()),
             "unread": self.unread,
             "sources": {ip: dict({"messages": s["messages"], "passed": s["passed"], "reports": s["reports"],
                                   "reporters": sorted(s["reporters"]), "header_from": sorted(s["header_from"])},
                                  **({"forwarded": s["forwarded"]} if s["forwarded"] else {}))
                         for ip, s in sorted(self.sources.items())}}
        if len(d["sources"]) > DIGEST_OVER:
            # thousands of sources (the large sample): their count and a digest
            # of their canonical JSON (sorted keys, no spaces, UTF-8)
            canon = json.dumps(d["sources"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            d["sources_count"] = len(d["sources"])
            d["sources_sha256"] = hashlib.sha256(canon.encode()).hexdigest()
            del d["sources"]
        return d


def main():
    out = {"files": {}, "dirs": {}}
    for d in sorted(os.listdir(SAMPLES)):
        dpath = os.path.join(SAMPLES, d)
        whole = Agg()
        for f in sorted(os.listdir(dpath)):
            rel = d + "/" + f
            one = Agg()
            how = one.read_file(os.path.join(dpath, f))
            whole.read_file(os.path.join(dpath, f))
            e = one.doc()
            e["read"] = how
            out["files"][rel] = e
        out["dirs"][d] = whole.doc()
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    sys.exit(main())
