FROM python:3.11-slim

# libGL and glib for OpenCV and MediaPipe.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
# The CPU build of torch keeps the image small; pip would otherwise pull the CUDA build.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY . .
EXPOSE 7860
# It listens on 0.0.0.0 so the port mapping reaches it: anyone who reaches the port can use it.
# Give it a login: docker run -p 7860:7860 -e DEEPEXPO_AUTH=user:password ... (README, Sharing).
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860"]
