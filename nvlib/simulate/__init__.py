"""RGB video -> DVS events with v2e's pixel model (paper Section 3), event for event.

Public API::

    DVSParams(...), DVSParams.preset("clean" | "noisy"), CAMERAS
    DVSEmulator(params, sensor_size=(W, H), device="cpu").step(gray_u8, t_s) -> Events
    simulate_frames(frames, fps=None, times_s=None, params=DVSParams(), device="cpu", progress=False)
    simulate_video(path, params=DVSParams(), camera=None, input_frame_rate=None, max_frames=None, device="cpu")
    resize_for_camera(frame, camera)

Model: Hu, Liu, Delbruck, "v2e: From Video Frames to Realistic DVS Events", CVPRW 2021.
"""
from nvlib.simulate.emulator import DVSEmulator, lin_log_table, simulate_frames
from nvlib.simulate.params import CAMERAS, DVSParams, camera_size
from nvlib.simulate.video import open_frames, resize_for_camera, simulate_video

__all__ = ["CAMERAS", "DVSEmulator", "DVSParams", "camera_size", "lin_log_table", "open_frames",
           "resize_for_camera", "simulate_frames", "simulate_video"]
