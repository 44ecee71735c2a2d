#!/usr/bin/python3
"""Golden trajectories of the classic-control environments, written from Gymnasium 1.x's published
definitions (the equations in the docs and sources of gymnasium/envs/classic_control), independently
of the C# code under test. Only NumPy is needed; Gymnasium itself is not.

Regenerate (from the repository root):

    /usr/bin/python3 test/ML.DeepExtensions.Tests/Reinforcement/Golden/make_golden.py

Casting follows Gymnasium under NumPy 1.x (Debian's 1.24 here): states are float64 except where
Gymnasium stores float32 (Acrobot's reset state, MountainCarContinuous's state after each step);
observations are float32. Seeded resets use np.random.default_rng(seed), which is what Gymnasium's
reset(seed=...) builds (PCG64 on a SeedSequence of the seed).
"""

import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
F32 = np.float32
MAX_STEPS = 80


def f32(x):
    """The float32 rounding of x, as an exact Python float."""
    return float(F32(x))


# ---------------------------------------------------------------- CartPole-v1
def cartpole_reset(rng):
    return [float(v) for v in rng.uniform(-0.05, 0.05, size=(4,))]


def cartpole_step(state, action):
    g, mc, mp, half_len, fmag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    total = mc + mp
    pml = mp * half_len
    x, xd, th, thd = state
    f = fmag if action == 1 else -fmag
    c, s = math.cos(th), math.sin(th)
    tmp = (f + pml * thd * thd * s) / total
    thacc = (g * s - c * tmp) / (half_len * (4.0 / 3.0 - mp * c * c / total))
    xacc = tmp - pml * thacc * c / total
    x, xd, th, thd = x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc
    lim = 12 * 2 * math.pi / 360
    done = x < -2.4 or x > 2.4 or th < -lim or th > lim
    return [x, xd, th, thd], 1.0, done


def cartpole_obs(state):
    return [f32(v) for v in state]


# ---------------------------------------------------------------- Acrobot-v1
def acrobot_reset(rng):
    return [float(v) for v in rng.uniform(-0.1, 0.1, size=(4,)).astype(np.float32)]


def acrobot_derivs(y, torque):
    m1 = m2 = 1.0
    l1 = 1.0
    lc1 = lc2 = 0.5
    i1 = i2 = 1.0
    g = 9.8
    t1, t2, w1, w2 = y
    d1 = m1 * lc1 ** 2 + m2 * (l1 ** 2 + lc2 ** 2 + 2 * l1 * lc2 * math.cos(t2)) + i1 + i2
    d2 = m2 * (lc2 ** 2 + l1 * lc2 * math.cos(t2)) + i2
    phi2 = m2 * lc2 * g * math.cos(t1 + t2 - math.pi / 2.0)
    phi1 = (-m2 * l1 * lc2 * w2 ** 2 * math.sin(t2)
            - 2 * m2 * l1 * lc2 * w2 * w1 * math.sin(t2)
            + (m1 * lc1 + m2 * l1) * g * math.cos(t1 - math.pi / 2) + phi2)
    # Sutton & Barto's book version (with the w1^2 term), Gymnasium's default.
    a2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * w1 ** 2 * math.sin(t2) - phi2) / (m2 * lc2 ** 2 + i2 - d2 ** 2 / d1)
    a1 = -(d2 * a2 + phi1) / d1
    return np.array([w1, w2, a1, a2])


def acrobot_step(state, action):
    torque = [-1.0, 0.0, 1.0][action]
    dt = 0.2
    y = np.array(state, dtype=np.float64)
    k1 = acrobot_derivs(y, torque)
    k2 = acrobot_derivs(y + dt / 2.0 * k1, torque)
    k3 = acrobot_derivs(y + dt / 2.0 * k2, torque)
    k4 = acrobot_derivs(y + dt * k3, torque)
    ny = y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    ns = [float(v) for v in ny]

    def wrap(v):
        while v > math.pi:
            v -= 2 * math.pi
        while v < -math.pi:
            v += 2 * math.pi
        return v

    ns[0], ns[1] = wrap(ns[0]), wrap(ns[1])
    ns[2] = min(max(ns[2], -4 * math.pi), 4 * math.pi)
    ns[3] = min(max(ns[3], -9 * math.pi), 9 * math.pi)
    done = -math.cos(ns[0]) - math.cos(ns[1] + ns[0]) > 1.0
    return ns, (0.0 if done else -1.0), done


def acrobot_obs(s):
    return [f32(math.cos(s[0])), f32(math.sin(s[0])), f32(math.cos(s[1])), f32(math.sin(s[1])), f32(s[2]), f32(s[3])]


# ---------------------------------------------------------------- MountainCar-v0
def mountaincar_reset(rng):
    return [float(rng.uniform(-0.6, -0.4)), 0.0]


def mountaincar_step(state, action):
    p, v = state
    v = v + ((action - 1) * 0.001 + math.cos(3 * p) * (-0.0025))
    v = min(max(v, -0.07), 0.07)
    p = p + v
    p = min(max(p, -1.2), 0.6)
    if p == -1.2 and v < 0:
        v = 0.0
    done = p >= 0.5 and v >= 0
    return [p, v], -1.0, done


def two_obs(s):
    return [f32(s[0]), f32(s[1])]


# ---------------------------------------------------------------- MountainCarContinuous-v0
def mcc_step(state, action):
    a = float(F32(action[0]))
    p, v = state
    force = min(max(a, -1.0), 1.0)
    v = v + (force * 0.0015 - 0.0025 * math.cos(3 * p))
    v = 0.07 if v > 0.07 else v
    v = -0.07 if v < -0.07 else v
    p = p + v
    p = 0.6 if p > 0.6 else p
    p = -1.2 if p < -1.2 else p
    if p == -1.2 and v < 0:
        v = 0.0
    done = p >= 0.45 and v >= 0
    reward = (100.0 if done else 0.0) - a ** 2 * 0.1
    # The new state is stored as float32.
    return [f32(p), f32(v)], reward, done


# ---------------------------------------------------------------- Pendulum-v1
def pendulum_reset(rng):
    return [float(v) for v in rng.uniform(low=np.array([-np.pi, -1.0]), high=np.array([np.pi, 1.0]))]


def pendulum_step(state, action):
    th, thd = state
    u = np.clip(np.array(action, dtype=np.float32), -2.0, 2.0)[0]
    u2 = float(u * u)  # float32 square, as u**2 on a float32 scalar
    u = float(u)
    norm = ((th + np.pi) % (2 * np.pi)) - np.pi
    costs = norm ** 2 + 0.1 * thd ** 2 + 0.001 * u2
    nthd = thd + (3 * 10.0 / (2 * 1.0) * math.sin(th) + 3.0 / (1.0 * 1.0 ** 2) * u) * 0.05
    nthd = min(max(nthd, -8.0), 8.0)
    nth = th + nthd * 0.05
    return [float(nth), float(nthd)], float(-costs), False


def pendulum_obs(s):
    return [f32(math.cos(s[0])), f32(math.sin(s[0])), f32(s[1])]


# ---------------------------------------------------------------- episodes
def run(reset, step, obs, actions, seed=None, start=None):
    if start is not None:
        state = list(start)
    else:
        state = reset(np.random.default_rng(seed))
    episode = {"seed": seed, "start": start, "reset_state": state, "reset_observation": obs(state),
               "actions": [], "states": [], "observations": [], "rewards": [], "terminated": []}
    for t in range(MAX_STEPS):
        # A list of actions, or a policy of the state (recorded, so the C# test replays the actions).
        a = actions(state) if callable(actions) else actions[t]
        state, r, done = step(state, a)
        episode["actions"].append(a)
        episode["states"].append(state)
        episode["observations"].append(obs(state))
        episode["rewards"].append(r)
        episode["terminated"].append(bool(done))
        if done:
            break
    return episode


def discrete_actions(seed, n):
    return [int(a) for a in np.random.default_rng(seed).integers(0, n, size=MAX_STEPS)]


def box_actions(seed, low, high):
    return [[f32(a)] for a in np.random.default_rng(seed).uniform(low, high, size=MAX_STEPS)]


def write(name, episodes):
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump({"environment": name, "episodes": episodes}, f, separators=(",", ":"))
        f.write("\n")
    print(name, [(len(e["actions"]), e["terminated"][-1]) for e in episodes])


def main():
    seeds = [0, 7, 123456]
    write("CartPole-v1",
          [run(cartpole_reset, cartpole_step, cartpole_obs, discrete_actions(100 + s, 2), seed=s) for s in seeds]
          + [run(cartpole_reset, cartpole_step, cartpole_obs, lambda s: 1 if s[2] + 0.5 * s[3] > 0 else 0, seed=11),
             run(cartpole_reset, cartpole_step, cartpole_obs, [1] * MAX_STEPS, start=[2.0, 1.5, 0.0, -0.2])])
    write("Acrobot-v1",
          [run(acrobot_reset, acrobot_step, acrobot_obs, discrete_actions(200 + s, 3), seed=s) for s in seeds]
          + [run(acrobot_reset, acrobot_step, acrobot_obs, lambda s: 2 if s[3] > 0 else 0, start=[0.5, 0.0, 0.0, 0.0]),
             run(acrobot_reset, acrobot_step, acrobot_obs, ([2] * 4 + [0] * 4) * 10, start=[1.0, 0.5, 3.0, -2.0])])
    write("MountainCar-v0",
          [run(mountaincar_reset, mountaincar_step, two_obs, discrete_actions(300 + s, 3), seed=s) for s in seeds]
          + [run(mountaincar_reset, mountaincar_step, two_obs, [2] * MAX_STEPS, start=[0.3, 0.04]),
             run(mountaincar_reset, mountaincar_step, two_obs, [0] * MAX_STEPS, start=[-1.15, -0.06])])
    write("MountainCarContinuous-v0",
          [run(mountaincar_reset, mcc_step, two_obs, box_actions(400 + s, -1.3, 1.3), seed=s) for s in seeds]
          + [run(mountaincar_reset, mcc_step, two_obs, [[1.0]] * MAX_STEPS, start=[0.3, 0.04]),
             run(mountaincar_reset, mcc_step, two_obs, [[-0.75]] * MAX_STEPS, start=[-1.15, -0.06])])
    write("Pendulum-v1",
          [run(pendulum_reset, pendulum_step, pendulum_obs, box_actions(500 + s, -2.5, 2.5), seed=s) for s in seeds]
          + [run(pendulum_reset, pendulum_step, pendulum_obs, [[2.0]] * MAX_STEPS, start=[-7.0, 7.5])])

    rng_cases = []
    for seed in [0, 1, 42, 123456, 2 ** 31 - 1]:
        raw = np.random.default_rng(seed).bit_generator.random_raw(3)
        doubles = np.random.default_rng(seed).random(3)
        rng_cases.append({"seed": seed, "uint64": [str(int(v)) for v in raw], "doubles": [float(v) for v in doubles]})
    with open(os.path.join(HERE, "pcg64.json"), "w") as f:
        json.dump({"numpy": np.__version__, "cases": rng_cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
