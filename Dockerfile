# The zonegeo web app. Used by docker-compose.yml together with a PostGIS container.
FROM python:3.11-slim
# The registry’s day is Beijing’s (deadlines, notice periods, report dates use the server’s local date): TZ as a POSIX
# rule (UTC+8, no DST since 1991), which needs no zoneinfo files in the slim image.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ZONEGEO_HOST=0.0.0.0 ZONEGEO_PORT=8000 TZ=CST-8
WORKDIR /app
# The Chinese font embedded in the printable PDFs (src/zonegeo/pdf/fonts.py; ZONEGEO_PDF_FONT chooses another).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
COPY data ./data
COPY scripts ./scripts
RUN pip install --no-cache-dir -e . && mkdir -p maps
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=6 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
# Migrations run with the administrator's URL (ZONEGEO_DATABASE_URL as given); use_app_role (scripts/lib.sh) then
# switches to the least-privilege role zonegeo_app for everything else, the server included.
CMD ["bash", "-c", "source scripts/lib.sh && zonegeo db upgrade && use_app_role && zonegeo import data/demo && zonegeo set-published NJ-DEMO-01 && zonegeo publish && export ZONEGEO_WORKERS=${ZONEGEO_WORKERS:-$(( $(nproc) > 4 ? 4 : $(nproc) ))} && exec zonegeo serve"]
