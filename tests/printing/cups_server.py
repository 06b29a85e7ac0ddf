"""A private cupsd on loopback with a cups-pdf printer, for the CUPS spooler tests (DESIGN.md §9)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
# cups-pdf reads /etc/cups/cups-pdf-NAME.conf for the device URI cups-pdf:/NAME (its only config place).
CUPS_PDF_CONF = Path("/etc/cups")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CupsServer:
    """cupsd -f with its own config, spool and logs under a test folder; stopped by stop()."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.server = f"127.0.0.1:{self.port}"
        self.tag = f"civid{uuid.uuid4().hex[:8]}"
        self.output = root / "pdf"
        self.process: subprocess.Popen[bytes] | None = None
        self._confs: list[Path] = []

    def start(self) -> None:
        for name in ("spool", "cache", "state", "log", "pdf"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)
        os.chmod(self.root / "tmp", 0o1777)  # filters run as lp and write their temporary files here
        (self.root / "cupsd.conf").write_text(
            f"Listen {self.server}\nLogLevel debug\nWebInterface No\nDefaultAuthType None\n"
            "<Location />\n  Order allow,deny\n  Allow from 127.0.0.1\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow from 127.0.0.1\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")
        (self.root / "cups-files.conf").write_text(
            f"SystemGroup root\nServerRoot {self.root}\nRequestRoot {self.root / 'spool'}\n"
            f"CacheDir {self.root / 'cache'}\nStateDir {self.root / 'state'}\nTempDir {self.root / 'tmp'}\n"
            f"AccessLog {self.root / 'log/access_log'}\nErrorLog {self.root / 'log/error_log'}\n"
            f"PageLog {self.root / 'log/page_log'}\nPrintcap {self.root / 'printcap'}\n")
        self.process = subprocess.Popen(
            ["cupsd", "-f", "-c", str(self.root / "cupsd.conf"), "-s", str(self.root / "cups-files.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["lpstat", "-h", self.server, "-r"], capture_output=True).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"cupsd did not start on {self.server}; see {self.root / 'log/error_log'}")

    def add_pdf_printer(self, name: str) -> str:
        """A cups-pdf queue whose PDFs land in self.output; returns the queue name."""
        device = f"{self.tag}{name}"
        conf = CUPS_PDF_CONF / f"cups-pdf-{device}.conf"
        conf.write_text(f"Out {self.output}\nAnonDirName {self.output}\n")
        self._confs.append(conf)
        for _ in range(20):  # a just-started cupsd can refuse its first admin request
            done = subprocess.run(["lpadmin", "-h", self.server, "-p", name, "-v", f"cups-pdf:/{device}",
                                   "-E", "-P", str(CUPS_PDF_PPD)], capture_output=True, text=True)
            if done.returncode == 0:
                return name
            time.sleep(0.25)
        raise RuntimeError(f"lpadmin {name}: {done.stderr.strip()}")

    def disable(self, queue: str) -> None:
        subprocess.run(["cupsdisable", "-h", self.server, queue], check=True)

    def enable(self, queue: str) -> None:
        subprocess.run(["cupsenable", "-h", self.server, queue], check=True)

    def pdf_of_job(self, job_id: str) -> Path | None:
        """The PDF that cups-pdf wrote for a job (its name ends in job_<id>.pdf)."""
        found = sorted(self.output.glob(f"*job_{job_id}.pdf"))
        return found[0] if found else None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        for conf in self._confs:
            conf.unlink(missing_ok=True)

    @staticmethod
    def available() -> bool:
        return all(shutil.which(tool) for tool in ("cupsd", "lp", "lpadmin", "ipptool")) and \
            (Path("/usr/lib/cups/backend/cups-pdf").exists())
