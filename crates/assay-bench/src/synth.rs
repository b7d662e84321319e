//! Photo-like pixels: smooth gradients and soft shapes under a fine noise
//! texture drawn from a per-file seed, so a 24-megapixel frame compresses
//! about as well as a camera's and no two files share bytes.

/// SplitMix64: tiny, fast and plenty random for test pixels.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    fn colour(&mut self, lo: f32, hi: f32) -> [f32; 3] {
        [self.range(lo, hi), self.range(lo, hi), self.range(lo, hi)]
    }
}

/// Soft shapes laid over the background.
const SHAPES: usize = 14;
/// Luma swing of the coarse (large blotches) and fine (surface detail)
/// noise octaves and of the per-pixel grain, in 8-bit levels. The fine
/// octave and the grain set the compressed size: about 8 MB a file at
/// quality 90, give or take the per-file `DETAIL` spread.
const COARSE: f32 = 22.0;
const FINE: f32 = 15.0;
const GRAIN: f32 = 14.0;
/// Each file's fine detail and grain are scaled by a factor in this range,
/// so sizes spread as a real shoot's do.
const DETAIL: (f32, f32) = (0.8, 1.2);

/// Fills `rgb` with a `width` x `height` RGB frame drawn from `seed`.
pub fn render(seed: u64, width: usize, height: usize, rgb: &mut Vec<u8>) {
    rgb.clear();
    rgb.resize(width * height * 3, 0);
    let mut rng = Rng::new(seed);
    background(&mut rng, width, height, rgb);
    for _ in 0..SHAPES {
        ellipse(&mut rng, width, height, rgb);
    }
    texture(&mut rng, width, height, rgb);
}

fn lerp3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// A sky over a ground, lit more from one side.
fn background(rng: &mut Rng, width: usize, height: usize, rgb: &mut [u8]) {
    let (sky_top, sky_low) = (rng.colour(60.0, 200.0), rng.colour(150.0, 250.0));
    let (ground_far, ground_near) = (rng.colour(40.0, 180.0), rng.colour(10.0, 120.0));
    let horizon = ((height as f32) * rng.range(0.35, 0.65)) as usize;
    let tilt = rng.range(-0.35, 0.35);
    let light: Vec<f32> = (0..width)
        .map(|x| 1.0 + tilt * (x as f32 / width as f32 - 0.5))
        .collect();
    for (y, row) in rgb.chunks_exact_mut(width * 3).enumerate() {
        let c = if y < horizon {
            lerp3(sky_top, sky_low, y as f32 / horizon.max(1) as f32)
        } else {
            let t = (y - horizon) as f32 / (height - horizon).max(1) as f32;
            lerp3(ground_far, ground_near, t)
        };
        for (px, l) in row.chunks_exact_mut(3).zip(&light) {
            for (v, c) in px.iter_mut().zip(c) {
                *v = (c * l).clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// A shaded, soft-edged ellipse at a random place.
fn ellipse(rng: &mut Rng, width: usize, height: usize, rgb: &mut [u8]) {
    let (w, h) = (width as f32, height as f32);
    let (cx, cy) = (rng.range(0.0, w), rng.range(0.0, h));
    let (rx, ry) = (rng.range(0.02, 0.2) * w, rng.range(0.02, 0.2) * w);
    let colour = rng.colour(0.0, 255.0);
    let opacity = rng.range(0.5, 1.0);
    let sharpness = rng.range(2.0, 12.0);
    let rows = (cy - ry).max(0.0) as usize..((cy + ry).ceil() as usize).min(height);
    let cols = (cx - rx).max(0.0) as usize..((cx + rx).ceil() as usize).min(width);
    for y in rows {
        let dy = (y as f32 - cy) / ry;
        let row = &mut rgb[(y * width + cols.start) * 3..(y * width + cols.end) * 3];
        for (x, px) in cols.clone().zip(row.chunks_exact_mut(3)) {
            let dx = (x as f32 - cx) / rx;
            let d2 = dx * dx + dy * dy;
            if d2 >= 1.0 {
                continue;
            }
            let alpha = ((1.0 - d2) * sharpness).min(1.0) * opacity;
            let shade = 1.15 - 0.4 * d2;
            for (v, c) in px.iter_mut().zip(colour) {
                let target = (c * shade).clamp(0.0, 255.0);
                *v = (*v as f32 + (target - *v as f32) * alpha) as u8;
            }
        }
    }
}

/// Value noise: random values on a grid of `cell`-pixel squares, blended
/// bilinearly, in [-1, 1].
struct Octave {
    cell: usize,
    columns: usize,
    grid: Vec<f32>,
}

impl Octave {
    fn new(rng: &mut Rng, width: usize, height: usize, cell: usize) -> Self {
        let columns = width / cell + 2;
        let rows = height / cell + 2;
        let grid = (0..columns * rows).map(|_| rng.range(-1.0, 1.0)).collect();
        Octave {
            cell,
            columns,
            grid,
        }
    }

    /// The noise along row `y`, one value per pixel, into `out`.
    fn row(&self, y: usize, out: &mut [f32]) {
        let (gy, ty) = (y / self.cell, (y % self.cell) as f32 / self.cell as f32);
        let above = &self.grid[gy * self.columns..(gy + 1) * self.columns];
        let below = &self.grid[(gy + 1) * self.columns..(gy + 2) * self.columns];
        for (x, v) in out.iter_mut().enumerate() {
            let (gx, tx) = (x / self.cell, (x % self.cell) as f32 / self.cell as f32);
            let top = above[gx] + (above[gx + 1] - above[gx]) * tx;
            let bottom = below[gx] + (below[gx + 1] - below[gx]) * tx;
            *v = top + (bottom - top) * ty;
        }
    }
}

/// Adds surface detail and sensor-like grain to every pixel.
fn texture(rng: &mut Rng, width: usize, height: usize, rgb: &mut [u8]) {
    let coarse = Octave::new(rng, width, height, 160);
    let fine = Octave::new(rng, width, height, 6);
    let grain_seed = rng.next_u64();
    let detail = rng.range(DETAIL.0, DETAIL.1);
    let (fine_swing, grain_swing) = (FINE * detail, GRAIN * detail);
    let (mut c, mut f) = (vec![0.0; width], vec![0.0; width]);
    for (y, row) in rgb.chunks_exact_mut(width * 3).enumerate() {
        coarse.row(y, &mut c);
        fine.row(y, &mut f);
        let mut grain = Rng::new(grain_seed ^ (y as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let mut bits = 0u64;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            if x % 4 == 0 {
                bits = grain.next_u64();
            }
            // Two bytes summed: a triangular distribution, closer to sensor noise.
            let pair = (bits >> ((x % 4) * 16)) as u16;
            let g = ((pair & 0xFF) + (pair >> 8)) as f32 / 255.0 - 1.0;
            let delta = c[x] * COARSE + f[x] * fine_swing + g * grain_swing;
            // A touch of colour in the fine detail, as real surfaces have.
            let tint = f[x] * fine_swing * 0.3;
            px[0] = (px[0] as f32 + delta + tint).clamp(0.0, 255.0) as u8;
            px[1] = (px[1] as f32 + delta).clamp(0.0, 255.0) as u8;
            px[2] = (px[2] as f32 + delta - tint).clamp(0.0, 255.0) as u8;
        }
    }
}
