"""Face points placed by hand on the shared animals and cartoon (pixels, left and right as seen
in the image), by looking at each picture: the faces MediaPipe does not find."""

from __future__ import annotations

PLACED = {
    # a shiba dog, mouth open, tongue out
    "s30.jpg": {
        "left_eye_outer": [83, 108], "left_eye_inner": [107, 112],
        "left_eye_top": [97, 104], "left_eye_bottom": [97, 118],
        "right_eye_inner": [147, 112], "right_eye_outer": [172, 107],
        "right_eye_top": [160, 104], "right_eye_bottom": [159, 119],
        "left_brow_outer": [80, 95], "left_brow_inner": [107, 97],
        "right_brow_inner": [147, 97], "right_brow_outer": [173, 95],
        "nose_tip": [125, 165], "mouth_left": [102, 181], "mouth_right": [156, 172],
        "mouth_top": [125, 183], "mouth_bottom": [125, 213], "chin": [125, 231],
        "face_left": [47, 110], "face_right": [210, 110], "face_top": [128, 40],
    },
    # a shiba dog lying down, mouth closed
    "s25.jpg": {
        "left_eye_outer": [150, 233], "left_eye_inner": [193, 233],
        "left_eye_top": [172, 221], "left_eye_bottom": [172, 248],
        "right_eye_inner": [280, 230], "right_eye_outer": [330, 227],
        "right_eye_top": [303, 215], "right_eye_bottom": [305, 243],
        "left_brow_outer": [147, 203], "left_brow_inner": [193, 203],
        "right_brow_inner": [280, 199], "right_brow_outer": [333, 197],
        "nose_tip": [223, 267], "mouth_left": [163, 343], "mouth_right": [293, 333],
        "mouth_top": [227, 327], "mouth_bottom": [227, 357], "chin": [227, 400],
        "face_left": [73, 227], "face_right": [433, 220], "face_top": [253, 127],
    },
    # a capuchin monkey, its face small in a wide photo
    "s22.jpg": {
        "left_eye_outer": [435, 218], "left_eye_inner": [462, 223],
        "left_eye_top": [448, 212], "left_eye_bottom": [448, 230],
        "right_eye_inner": [493, 218], "right_eye_outer": [520, 213],
        "right_eye_top": [507, 204], "right_eye_bottom": [507, 226],
        "left_brow_outer": [433, 204], "left_brow_inner": [463, 206],
        "right_brow_inner": [490, 197], "right_brow_outer": [523, 196],
        "nose_tip": [480, 277], "mouth_left": [452, 292], "mouth_right": [528, 292],
        "mouth_top": [490, 285], "mouth_bottom": [490, 305], "chin": [490, 323],
        "face_left": [415, 250], "face_right": [545, 245], "face_top": [490, 178],
    },
    # a cartoon alpaca: large round eyes, a small mouth under a pink nose
    "s23.jpg": {
        "left_eye_outer": [236, 346], "left_eye_inner": [285, 355],
        "left_eye_top": [259, 324], "left_eye_bottom": [259, 367],
        "right_eye_inner": [379, 344], "right_eye_outer": [412, 338],
        "right_eye_top": [397, 322], "right_eye_bottom": [397, 360],
        "left_brow_outer": [232, 310], "left_brow_inner": [289, 314],
        "right_brow_inner": [375, 308], "right_brow_outer": [416, 303],
        "nose_tip": [341, 390], "mouth_left": [302, 412], "mouth_right": [379, 412],
        "mouth_top": [341, 402], "mouth_bottom": [338, 425], "chin": [338, 456],
        "face_left": [183, 350], "face_right": [465, 342], "face_top": [334, 236],
    },
    # a cat with large round eyes
    "s41.jpg": {
        "left_eye_outer": [72, 115], "left_eye_inner": [106, 115],
        "left_eye_top": [88, 101], "left_eye_bottom": [88, 129],
        "right_eye_inner": [148, 115], "right_eye_outer": [180, 112],
        "right_eye_top": [164, 101], "right_eye_bottom": [164, 130],
        "left_brow_outer": [72, 90], "left_brow_inner": [100, 90],
        "right_brow_inner": [152, 90], "right_brow_outer": [182, 89],
        "nose_tip": [126, 147], "mouth_left": [112, 167], "mouth_right": [140, 167],
        "mouth_top": [126, 159], "mouth_bottom": [126, 173], "chin": [126, 190],
        "face_left": [33, 113], "face_right": [222, 113], "face_top": [126, 50],
    },
}
