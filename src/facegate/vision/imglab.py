"""Face boxes labelled in dlib's imglab XML format (the shared detection sets use it).

Used by the detection tests and the recall bench; the files are local data sets, read
with the standard library's parser (no entity expansion is needed or used by them).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from facegate.domain.faces import Box


def labelled_images(xml_file: Path) -> list[tuple[Path, list[Box]]]:
    """The images of an imglab XML file, each with its face boxes not marked ``ignore``.

    Boxes are in the image's pixels: ``left``/``top`` plus ``width``/``height``.
    """
    images = []
    for image in ET.parse(xml_file).getroot().iter("image"):
        boxes = [
            Box(
                int(b.get("left", 0)),
                int(b.get("top", 0)),
                int(b.get("left", 0)) + int(b.get("width", 0)),
                int(b.get("top", 0)) + int(b.get("height", 0)),
            )
            for b in image.iter("box")
            if b.get("ignore") != "1"
        ]
        images.append((xml_file.parent / image.get("file", ""), boxes))
    return images
