# ./run.ps1 [server options]   build (Release) and start the echo server with those options
# ./run.ps1 test [test args]   build and run every test
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot

if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
  [Console]::Error.WriteLine("run.ps1: 'dotnet' was not found on PATH; install the .NET 10 SDK (https://dot.net) and try again.")
  exit 127
}

if ($args.Count -gt 0 -and $args[0] -eq 'test') {
  $rest = @($args | Select-Object -Skip 1)
  & dotnet test (Join-Path $root 'EchoServer.sln') -c Release @rest
  exit $LASTEXITCODE
}

$buildLog = & dotnet build (Join-Path $root 'src/EchoServer/EchoServer.csproj') -c Release -nologo 2>&1
if ($LASTEXITCODE -ne 0) { $buildLog | ForEach-Object { [Console]::Error.WriteLine($_) }; exit 1 }
# The native launcher names the process echo-server (for dotnet-counters -n, ps, top); fall back to the dll.
$out = Join-Path $root 'src/EchoServer/bin/Release/net10.0'
$launcher = @('echo-server.exe', 'echo-server') | ForEach-Object { Join-Path $out $_ } | Where-Object { Test-Path $_ -PathType Leaf } | Select-Object -First 1
if ($launcher) { & $launcher @args } else { & dotnet (Join-Path $out 'echo-server.dll') @args }
exit $LASTEXITCODE
