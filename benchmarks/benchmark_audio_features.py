"""Seconds to turn FSDD's 3,000 recordings into log-mel spectrograms and MFCCs.

Times, for the chapter's settings (8 kHz, n_fft 256, hop 64, 40 mel bands, 1 s
per recording), each the median of ``--repeats`` runs with wall-clock and
process CPU seconds (the CPU time is less distorted by other processes):

* **cold**: ``log_mel_batch(..., cache=False)`` (and ``mfcc_batch``), computed;
* **cache, first call**: ``cache=True`` on an empty cache: computed and written;
* **cache, later calls**: read back from the Keras cache (with its checks);
* **librosa loop** (``--librosa``): ``librosa.feature.melspectrogram`` and
  ``power_to_db`` one recording at a time, the way a tutorial writes it.

The cache goes into a temporary ``$KERAS_HOME``, removed at the end. The data
come from ``load_fsdd`` (``$COURSEPKG_FSDD_ARCHIVE`` or the download).

Example:
    COURSEPKG_FSDD_ARCHIVE=../shared/data/fsdd-v1.0.10/v1.0.10.tar.gz \\
        python benchmarks/benchmark_audio_features.py --repeats 3 --librosa
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def _timed(function, repeats: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--librosa", action="store_true", help="also time a per-recording librosa loop")
    arguments = parser.parse_args()

    import numpy as np

    from coursepkg import audio, spectrograms

    dataset = audio.load_fsdd()
    waveforms = dataset.waveforms
    spectrograms.log_mel_batch(waveforms[:2])  # imports librosa's filters outside the timings
    rows = []
    with tempfile.TemporaryDirectory() as home:
        os.environ["KERAS_HOME"] = home
        for name, function in [("log-mel", spectrograms.log_mel_batch), ("MFCC", spectrograms.mfcc_batch)]:
            rows.append((f"{name}, cold", *_timed(lambda f=function: f(waveforms), arguments.repeats)))
            rows.append((f"{name}, cache, first call", *_timed(lambda f=function: f(waveforms, cache=True), 1)))
            rows.append((f"{name}, cache, later calls",
                         *_timed(lambda f=function: f(waveforms, cache=True), arguments.repeats)))  # fmt: skip
    if arguments.librosa:
        import librosa

        def loop():
            padded = audio.pad_or_crop(waveforms, 8000)
            return np.stack([
                librosa.power_to_db(librosa.feature.melspectrogram(
                    y=row, sr=8000, n_fft=256, hop_length=64, n_mels=40), ref=np.max, top_db=80.0)
                for row in padded
            ])  # fmt: skip

        rows.append(("log-mel, librosa loop", *_timed(loop, 1)))
    print(f"\n{len(waveforms):,} recordings, {os.cpu_count()} CPU cores")
    print(f"{'what':<28} {'wall s':>8} {'CPU s':>8}")
    for what, wall, cpu in rows:
        print(f"{what:<28} {wall:>8.2f} {cpu:>8.2f}")


if __name__ == "__main__":
    main()
