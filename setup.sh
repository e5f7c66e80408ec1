#!/usr/bin/env bash
# 一步安装 docgen 及其依赖（含免费字体），并生成示例公文到 out/。
# One step: install docgen and everything it needs (free fonts included), then build the examples into out/.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

echo "==> 安装系统软件包 (system packages: Python venv, LibreOffice Writer, poppler, fontconfig)"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3 python3-venv python3-pip libreoffice-writer-nogui poppler-utils fontconfig >/dev/null

echo "==> 安装 docgen 到 .venv (Python packages)"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

echo "==> 安装免费公文字体 (free fonts: Fandol, Noto Serif CJK SC)"
.venv/bin/docgen fonts install

echo "==> 生成示例 (building examples into out/)"
.venv/bin/docgen build data examples -o out
echo "==> 批量示例：每个县区每年一份 (batch example: one report per county and year, into out/yearly/)"
.venv/bin/docgen build examples/yearly/annual-report.yaml --each examples/yearly/counties.csv \
    --name "{{ year }}-{{ county }}" -o out/yearly
echo "完成 (done)：out/ 中是生成的 .docx 和 .pdf；命令行工具为 .venv/bin/docgen"
