"""Write the shipped sample recordings (src/callsort/samples/*.mp3) with espeak-ng speech synthesis.

Run once by a developer (needs `apt-get install espeak-ng`); the outputs are committed so that the demo and
the tests need no synthesiser. Each call is stereo: the agent on the left channel, the caller on the right,
taking turns, as call-centre systems record them.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

RATE = 16000
SAMPLES = Path(__file__).resolve().parents[1] / "src" / "callsort" / "samples"

CALLS = {
    # a new customer books a repair visit
    "sample_call_booked.mp3": [
        ("agent", "Thank you for calling Northside Heating and Plumbing, this is Dana, how can I help you today?"),
        ("caller", "Hi, my furnace stopped working last night and the house is freezing. I have never used you before."),
        ("agent", "I am sorry to hear that. I can get a technician out to you tomorrow morning between eight and ten."),
        ("caller", "Tomorrow morning works. Please book it."),
        ("agent", "Great, you are all set for tomorrow at eight. Can I have your address?"),
        ("caller", "Sure, it is 42 Maple Street."),
    ],
    # nobody answers: only the recorded greeting plays
    "sample_call_voicemail.mp3": [
        ("agent", "You have reached Northside Heating and Plumbing. We are closed right now. "
                  "Please leave your name and number after the tone and we will call you back."),
        ("caller", "Hi, this is Sam, I need a quote for a new water heater. Please call me back at 555 0142."),
    ],
}
VOICES = {"agent": "en-us", "caller": "en-us+f3"}


def speak(text: str, voice: str) -> np.ndarray:
    """Synthesise one utterance to float32 mono at RATE Hz."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
        subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", wav.name, text], check=True)
        with av.open(wav.name) as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            chunks = [f.to_ndarray()[0] for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    return np.concatenate(chunks)


def write_stereo_mp3(left: np.ndarray, right: np.ndarray, path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libmp3lame", rate=RATE, layout="stereo")
        stream.bit_rate = 32000  # speech only: keeps the shipped files small
        samples = np.stack([left, right]).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> None:
    gap = np.zeros(int(0.6 * RATE), dtype=np.float32)
    for name, turns in CALLS.items():
        left, right = [gap], [gap]
        for speaker, text in turns:
            audio = speak(text, VOICES[speaker])
            silence = np.zeros_like(audio)
            left += [audio if speaker == "agent" else silence, gap]
            right += [audio if speaker == "caller" else silence, gap]
        write_stereo_mp3(np.concatenate(left), np.concatenate(right), SAMPLES / name)
        print(f"wrote {SAMPLES / name}")


if __name__ == "__main__":
    main()
