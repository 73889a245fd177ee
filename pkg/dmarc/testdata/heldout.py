#!/usr/bin/env python3
"""Writes samples/heldout-wrapped/ from samples/heldout/: the held-out reports
as they arrive (compressed, archived, attached to mail, in an mbox) and with
the oddities real files have (BOM, UTF-16, Latin-1, empty records, a huge
count, two auth_results, overrides). Byte for byte the same on every run.
With a directory of the original reports as argument, it also writes
samples/heldout/ from them, the public addresses replaced (README.md)."""
import base64, gzip, io, os, re, shutil, sys, zipfile
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "samples", "heldout")
MAP = {
    "12.20.127.122": "198.51.100.201", "12.20.127.40": "198.51.100.202",
    "199.230.200.36": "198.51.100.203", "148.243.137.254": "198.51.100.204",
    "194.25.134.82": "198.51.100.205", "54.240.27.190": "198.51.100.206",
    "200.15.100.100": "198.51.100.207", "200.10.106.108": "198.51.100.208",
    "136.143.188.56": "198.51.100.209", "144.76.154.188": "198.51.100.210",
    "209.85.220.41": "198.51.100.219", "199.255.192.1": "198.51.100.220",
    "dead:beef:1:abc::": "2001:db8:beef:1:abc::",
}
for i in range(4, 12):
    MAP["1.2.3.%d" % i] = "198.51.100.%d" % (207 + i)

def anon(b):
    def sub(m):
        ip = m.group(1).decode()
        return b"<source_ip>" + MAP.get(ip, ip).encode() + b"</source_ip>"
    return re.sub(rb"<source_ip>([^<]*)</source_ip>", sub, b)

rep = os.path.join(HERE, "samples", "heldout")
wr = os.path.join(HERE, "samples", "heldout-wrapped")
shutil.rmtree(wr, ignore_errors=True)
os.makedirs(rep, exist_ok=True)
os.makedirs(wr)
reports = {}
for name in sorted(os.listdir(RAW)):
    data = anon(open(os.path.join(RAW, name), "rb").read())
    for ip in re.findall(rb"<source_ip>([^<]*)</source_ip>", data):
        ip = ip.decode()
        ok = (ip.startswith(("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8", "127.", "234.", "255."))
              or ip in MAP.values())
        assert ok, (name, ip)
    open(os.path.join(rep, name), "wb").write(data)
    reports[name] = data

def R(prefix):
    [k] = [k for k in reports if k.startswith(prefix)]
    return reports[k]

def gz(b, name=None):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(b)
    return buf.getvalue()

def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in members:
            zi = zipfile.ZipInfo(n, date_time=(2024, 11, 26, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, b)
    return buf.getvalue()

def put(name, b):
    open(os.path.join(wr, name), "wb").write(b)

# 1. Microsoft: a zip named as Outlook names it, member the same name .xml
ms = "enterprise.protection.outlook.com!a-domain.localhost!1732492800!1732579200"
put(ms + ".zip", zipped([(ms + ".xml", R("php-dmarc_"))]))
# 2. a zip saved on a Mac: the report in folders, and AppleDouble junk beside it
rig = "google.com!rigweb.ru!1431388800!1431475199"
put("Archive.zip", zipped([("DMARC/2015/05/" + rig + ".xml", R("qa-page_")),
                           ("__MACOSX/DMARC/2015/05/._" + rig + ".xml", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02")]))
# 3. Google-style .xml.gz
put("google.com!example.com!1715126400!1715212799.xml.gz", gz(R("mailantis_"), "google.com!example.com!1715126400!1715212799.xml"))
# 4. zip holding a .xml.gz (a user zipped what Outlook sent)
po = "protection.outlook.com!immccn123.xyz!1671408000!1671494400.xml.gz"
put("immccn-reports.zip", zipped([(po, gz(R("blog-immccn_")))]))

def mail(subject, frm, parts, boundary):
    m = MIMEMultipart("mixed", boundary=boundary)
    m["From"] = frm
    m["To"] = "dmarc@example.com"
    m["Subject"] = subject
    m["Date"] = "Tue, 26 Nov 2024 09:12:33 +0000"
    m["Message-ID"] = "<%s@example.net>" % boundary
    m.attach(MIMEText("This is an aggregate report from %s.\n" % frm.split("@")[1]))
    for p in parts:
        m.attach(p)
    return m.as_bytes()

def att(data, ctype, filename, disposition=True):
    main, sub = ctype.split("/")
    p = MIMEApplication(data, sub, name=filename) if main == "application" else None
    if p is None:
        from email.mime.base import MIMEBase
        from email import encoders
        p = MIMEBase(main, sub, name=filename)
        p.set_payload(data)
        encoders.encode_base64(p)
    if disposition:
        p.add_header("Content-Disposition", "attachment", filename=filename)
    return p

# 5. Outlook.com mail: application/gzip, base64
v = "protection.outlook.com!verimi.de!1644451200!1644537600.xml.gz"
put("outlook-gzip.eml", mail("Report Domain: verimi.de Submitter: protection.outlook.com Report-ID: <ded22d897bfd494eb11fcd3818220f50>",
    "dmarcreport@microsoft.com", [att(gz(R("deemarker_")), "application/gzip", v)], "_000_outlook_gzip_"))
# 6. older Microsoft/Hotmail mail: application/x-zip-compressed, no Content-Disposition
z = "enterprise.protection.outlook.com!a-domain.localhost!1732492800!1732579200.zip"
put("outlook-x-zip.eml", mail("Report Domain: a-domain.localhost Submitter: enterprise.protection.outlook.com Report-ID: 17265e8a413a4989bc4eef2c46ef08d0",
    "dmarcreport@microsoft.com", [att(zipped([(ms + ".xml", R("php-dmarc_"))]), "application/x-zip-compressed", z, disposition=False)], "_001_x_zip_"))
# 7. Yahoo-style: application/octet-stream with an .xml.gz name
y = "yahoo.com!example.com!1405468800!1405555199.xml.gz"
put("yahoo-octet.eml", mail("Report Domain: example.com Submitter: yahoo.com Report-ID: <1405588706.570207>",
    "postmaster@dmarc.yahoo.com", [att(gz(R("go-dmarc_")), "application/octet-stream", y)], "----=_Part_yahoo_octet"))
# 8. a small reporter: text/xml attachment, quoted-printable
from email.mime.base import MIMEBase
from email import encoders
p = MIMEBase("text", "xml", name="usssa.com!example.com!1538784000!1538870399.xml")
p.set_payload(R("parsedmarc_usssa"))
encoders.encode_quopri(p)
p.add_header("Content-Disposition", "attachment", filename="usssa.com!example.com!1538784000!1538870399.xml")
put("usssa-text-xml-qp.eml", mail("Report domain: example.com Submitter: usssa.com Report-ID: <8953b4d4a4ee4218b6ac0e2cb2667ee1>",
    "postmaster@usssa.com", [p], "==usssa=="))
# 9. application/zip (parsedmarc's estadocuenta1 arrived zipped)
e = "estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml"
put(e + ".zip", zipped([(e, R("parsedmarc_estadocuenta1"))]))
# 10. BOM, 11. UTF-16 with BOM, 12. ISO-8859-1 with a Latin-1 byte
put("bom-utf8_" + "amazonses.com!example.org!1741305600!1741392000.xml", b"\xef\xbb\xbf" + R("blog-ses_"))
u = R("blog-zh_google").replace(b'encoding="UTF-8"', b'encoding="UTF-16"')
put("utf16le-bom_google.com!example.com!1650499200!1650585599.xml", b"\xff\xfe" + u.decode().encode("utf-16-le"))
l = R("parsedmarc_estadocuenta1").replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>').replace(
    b"XYZ Corporation", "Infonacot Estado de Cuenta, Técnico".encode("latin-1"))
put("latin1_estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml", l)
# 13. empty <record/>s and a record with no row
s = R("samuelba_").replace(b"    <record>\n        <row>\n            <source_ip>198.51.100.211",
                           b"    <record/>\n    <record></record>\n    <record>\n        <row>\n            <source_ip>198.51.100.211", 1)
put("empty-records_google.com!example.com!1701129600!1701215999.xml", s)
# 14. huge counts (past 2^32)
h = R("mailantis_").replace(b"<count>1842</count>", b"<count>4294967296</count>")
put("huge-count_google.com!example.com!1715126400!1715212799.xml", h)
# 15. two <auth_results> in one record (seen from small reporters)
a = R("tsfix_rackspace").replace(b"    </auth_results>\n", b"    </auth_results>\n    <auth_results><dkim><domain>example.net</domain><result>fail</result></dkim></auth_results>\n", 1)
put("multi-auth-results_emailsrvr.xml", a)
# 16. overrides: forwarded, mailing_list, local_policy
o = R("tsfix_google_multidkim").replace(
    b"<policy_evaluated><disposition>quarantine</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated>",
    b"<policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf>"
    b"<reason><type>forwarded</type><comment>looks forwarded</comment></reason>"
    b"<reason><type>mailing_list</type></reason><reason><type>local_policy</type><comment>arc=pass</comment></reason></policy_evaluated>")
put("overrides_google.com!example.com!1780876800!1780963199.xml", o)
# 17. an mbox: three reports and a provider's note
def frm(b):
    return b"From MAILER-DAEMON Tue Nov 26 09:12:33 2024\n" + re.sub(rb"(?m)^From ", b">From ", b.replace(b"\r\n", b"\n")) + b"\n"
note = b"From: postmaster@example.net\nTo: dmarc@example.com\nSubject: Your mailbox is almost full\nDate: Tue, 26 Nov 2024 09:00:00 +0000\n\nPlease clean up.\n"
put("reports.mbox", frm(open(os.path.join(wr, "outlook-gzip.eml"), "rb").read()) + frm(note) +
    frm(open(os.path.join(wr, "yahoo-octet.eml"), "rb").read()) + frm(open(os.path.join(wr, "usssa-text-xml-qp.eml"), "rb").read()))
print(len(reports), "reports,", len(os.listdir(wr)), "wrapped")
