# Twin of loadtest.sh: load-tests both pools across a few sizes and connection counts, one server start per
# pool configuration, and writes results/<timestamp>/: one JSON report per run, summary.md, throughput.png/.svg
# and latency.png/.svg.
#   scripts/loadtest.ps1 [-Quick] [-Duration SECONDS] [-Out DIR]
param([switch] $Quick, [double] $Duration = 0, [string] $Out = '')
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @($Out | Where-Object { $_ -like '-*' }))

if ($Quick) {
  $configs = @(@('workers', 128), @('executor', 128)); $sizes = @('64', '16KiB'); $conns = @(1, 100, 1000)
  if ($Duration -eq 0) { $Duration = 2 }; $warmup = 0.5
} else {
  $configs = @(@('workers', 128), @('workers', 1000), @('executor', 128), @('executor', 1000)); $sizes = @('64', '1KiB', '16KiB'); $conns = @(1, 100, 1000)
  if ($Duration -eq 0) { $Duration = 4 }; $warmup = 1
}
if (-not $Out) { $Out = Join-Path $RepoRoot ('results/' + (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
Build-Release

$worst = 0
foreach ($config in $configs) {
  $pool, $workers = $config
  $server = Start-EchoServer (Join-Path $Out "server-$pool-$workers.log") @('--pool', $pool, '--workers', "$workers", '--max-connections', '1100', '--log-level', 'Warning')
  try {
    [Console]::Error.WriteLine("== pool=$pool workers=$workers on port $($server.Port)")
    foreach ($size in $sizes) {
      foreach ($c in $conns) {
        $name = "$pool-w$workers-s$size-c$c"
        $report = & dotnet $LoadDll --port $server.Port -c $c -s $size -d $Duration --warmup $warmup --progress 0 `
          --server-pid $server.Process.Id --label "pool=$pool" --label "workers=$workers" --json (Join-Path $Out "$name.json")
        if ($LASTEXITCODE -gt $worst) { $worst = $LASTEXITCODE }
        $report | Where-Object { $_ -match '^echo-load|messages|answered|latency|errors' } | ForEach-Object { [Console]::Error.WriteLine($_) }
      }
    }
  } finally {
    Stop-EchoServer $server
  }
}

& dotnet $LoadDll summarize $Out --title "EchoServer load test ($((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd')), $([Environment]::ProcessorCount) cores)" | Out-Null
Get-Content (Join-Path $Out 'summary.md')
Write-Output "results: $Out (summary.md, throughput.png/.svg, latency.png/.svg, one JSON per run, server logs)"
if ($worst -eq 3) { [Console]::Error.WriteLine('loadtest.ps1: some bytes came back wrong (see the reports)'); exit 3 }
