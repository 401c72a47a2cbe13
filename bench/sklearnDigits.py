"""scikit-learn's 8x8 handwritten digits (1,797 of them, 0-16 ink) as PNG files scaled up, dark ink on a
white page like a scan, named <index>-<label>.png, for bench/augment.ts to read through the app's own image
preprocessing (the path a dropped image takes). Run: /usr/bin/python3 bench/sklearnDigits.py OUT_DIR [SIDE]"""
import sys

from PIL import Image
from sklearn.datasets import load_digits

out, side = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 64
digits = load_digits()
for i, (image, label) in enumerate(zip(digits.images, digits.target)):
    page = Image.fromarray((255 - image * 255 / 16).round().astype("uint8"), "L")
    page.resize((side, side), Image.BILINEAR).save(f"{out}/{i}-{label}.png")
print(len(digits.images))
